"""Long surveys on a phone: questions grouped by subject, and choice questions that are a numbered scale.

The expectation survey (the surveys domain's template ``expectation``, per journey in
``investment/expectation_survey.py``) asks three questions per subject (``imp_price``, ``exp_price``,
``per_price``; per moment ``imp_m_<moment>``, ``exp_m_<moment>``) and writes its 1-5 and 1-10 marks as
choices ``s1`` .. ``s10`` (so that an expected mark never counts as a grade). Shown as choices, each is a
column of ten rows: 10,500 px on a phone. The page shows such a choice as the same one-row scale as a grade
(the stored value stays the choice's key) and puts each subject's questions under a heading that says where
the customer is ("Onderwerp 3 van 8: Product"). Nothing here depends on the expectation survey by name: any
survey with these key patterns gets it."""

from __future__ import annotations

import re

_OPTION = re.compile(r"^s(\d{1,2})$")
_SUBJECT = re.compile(r"^(?:imp|exp|per)_(m_)?([a-z0-9_]+)$")
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2})\s*(?:[–\-:=]\s*(.*))?$")
MIN_POINTS, MAX_POINTS = 3, 11  # a scale the one-row layout fits down to 320 px
DIMENSIONS = ("price", "product", "service")  # named by the catalogue: public.group.<name>


def choice_scale(options: list[tuple[str, str]]) -> tuple[list[tuple[str, int]], str | None, str | None] | None:
    """``([(key, number)], low label, high label)`` when the choices are ``s1`` .. ``sN`` in order, each label
    its number (optionally "– words"); else None (shown as a list of choices)."""
    if not MIN_POINTS <= len(options) <= MAX_POINTS:
        return None
    points = []
    for position, (key, label) in enumerate(options, start=1):
        key_match, label_match = _OPTION.match(key or ""), _LEADING_NUMBER.match(label or "")
        if not key_match or not label_match or int(key_match[1]) != position or int(label_match[1]) != position:
            return None
        points.append((key, position))
    low = _LEADING_NUMBER.match(options[0][1])[2] or None
    high = _LEADING_NUMBER.match(options[-1][1])[2] or None
    return points, low, high


def subject_of(key: str) -> tuple[str, str] | None:
    """``("moment", key)`` for ``imp_m_<key>`` / ``exp_m_<key>``, ``("dimension", name)`` for ``imp_<name>``
    and its kin; None for a question about no subject (an open question, say)."""
    match = _SUBJECT.match(key)
    if match is None:
        return None
    return ("moment" if match[1] else "dimension", match[2])


def subject_groups(keys: list[str]) -> list[tuple[tuple[str, str] | None, list[str]]] | None:
    """The questions in runs of one subject, in order (a question of no subject is a run of its own); None
    when fewer than two subjects repeat over several questions (no headings then: a short survey needs none)."""
    runs: list[tuple[tuple[str, str] | None, list[str]]] = []
    for key in keys:
        subject = subject_of(key)
        if runs and subject is not None and runs[-1][0] == subject:
            runs[-1][1].append(key)
        else:
            runs.append((subject, [key]))
    if sum(1 for subject, members in runs if subject is not None and len(members) > 1) < 2:
        return None
    return runs
