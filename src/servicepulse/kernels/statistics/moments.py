"""The 7+/9+ status of a moment in the customer journey.

A *functional* moment only has to meet expectations: a 7 (its norm) is good
enough and investing beyond it adds little. An *emotional* moment (a moment
of truth) builds loyalty only at 9 or more. ``moment_status`` turns a moment's
kind, norm and current score into what to do, in English and Dutch, in stages
(the one place every page, the scan, the API and the PDF take it from):

- below 7 (``BASICS``), whatever the kind: fix the basics;
- functional, from 7 up to its norm (a norm above 7): still fix the basics;
  from its norm: good enough; ``OVER_INVESTED_MARGIN`` or more above its norm:
  possibly over-invested;
- emotional, from 7 up to its norm: a moment of truth to win; at or above its
  norm: keep it.

``check_label`` compares the label with what the data say (PRCA behaviour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import AnalyticsInputError

DEFAULT_NORMS = {"functional": 7.0, "emotional": 9.0}
BASICS = 7.0  # below this a moment is "fix the basics", whatever its kind
OVER_INVESTED_MARGIN = 1.5  # a functional moment this far above its norm is possibly over-invested
_KIND_ALIASES = {
    "functional": "functional", "functioneel": "functional",
    "emotional": "emotional", "emotioneel": "emotional",
}

STATUSES: dict[str, tuple[str, str]] = {
    "fix_basics": ("fix the basics", "basis op orde brengen"),
    "good_enough": ("good enough: do not over-invest", "goed genoeg: niet overinvesteren"),
    "over_invested": ("possibly over-invested: well above what this moment needs",
                      "mogelijk overgeïnvesteerd: ruim boven wat dit moment nodig heeft"),
    "win_moment": ("moment of truth to win", "moment van de waarheid om te winnen"),
    "keep_it": ("keep it", "vasthouden"),
    "unknown": ("no score yet", "nog geen score"),
}


@dataclass(frozen=True)
class MomentStatus:
    """Where a moment stands against its norm.

    ``certain`` is None without an interval; otherwise False when the interval
    ``low``..``high`` still contains the norm (``note_en``/``note_nl`` say so).
    """

    code: str
    label_en: str
    label_nl: str
    kind: str
    norm: float
    score: float | None
    gap: float | None  # score - norm
    certain: bool | None = None
    note_en: str | None = None
    note_nl: str | None = None


def normalise_kind(kind: str) -> str:
    """'functional' or 'emotional' (Dutch 'functioneel'/'emotioneel' accepted)."""
    key = str(kind).strip().lower() if kind is not None else ""
    if key not in _KIND_ALIASES:
        raise AnalyticsInputError(f"moment kind must be 'functional' or 'emotional', got {kind!r}")
    return _KIND_ALIASES[key]


def _nl(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def moment_status(
    kind: str,
    norm: float | None = None,
    score: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> MomentStatus:
    """Status of a moment in stages (see the module docstring): fix the basics / good enough /
    possibly over-invested / moment of truth to win / keep it.

    Args:
        kind: "functional" or "emotional".
        norm: the moment's norm; None uses 7.0 (functional) or 9.0 (emotional).
        score: the current mean score (1-10 grade or 0-10); None when there
            are too few answers, giving status "unknown".
        low, high: optional confidence interval of the score, used to say
            whether the status is certain.
    """
    k = normalise_kind(kind)
    level = DEFAULT_NORMS[k] if norm is None else float(norm)
    if score is None:
        en, nl = STATUSES["unknown"]
        return MomentStatus("unknown", en, nl, k, level, None, None)
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise AnalyticsInputError(f"score must be a number, got {score!r}") from None
    if not math.isfinite(value) or not math.isfinite(level):
        raise AnalyticsInputError(f"score and norm must be finite numbers, got score={score!r}, norm={norm!r}")
    below = value < level
    if value < BASICS or (k == "functional" and below):
        code = "fix_basics"
    elif k == "functional":
        code = "over_invested" if value >= level + OVER_INVESTED_MARGIN else "good_enough"
    else:
        code = "win_moment" if below else "keep_it"
    en, nl = STATUSES[code]
    certain = note_en = note_nl = None
    if low is not None and high is not None:
        if low > high:
            raise AnalyticsInputError(f"interval low ({low}) is above high ({high})")
        certain = bool(high < level) if below else bool(low >= level)
        if not certain:
            note_en = f"not yet certain: the interval {low:.1f}-{high:.1f} includes the norm {level:.1f}"
            note_nl = f"nog niet zeker: het interval {_nl(low)}-{_nl(high)} omvat de norm {_nl(level)}"
    return MomentStatus(code, en, nl, k, level, value, value - level, certain, note_en, note_nl)


@dataclass(frozen=True)
class LabelCheck:
    """Does the moment's label match how it behaves in the data?"""

    consistent: bool | None  # None: the data show no effect, so they cannot judge
    suggested_kind: str | None
    suggestion_en: str | None
    suggestion_nl: str | None


def check_label(kind: str, behaviour: str) -> LabelCheck:
    """Compare a moment's label with its PRCA behaviour and suggest a change.

    ``behaviour`` is one of "basic", "excitement", "performance", "no effect"
    (see :func:`servicepulse.kernels.statistics.prca.prca`).
    """
    k = normalise_kind(kind)
    if behaviour not in ("basic", "excitement", "performance", "no effect"):
        raise AnalyticsInputError(
            f"behaviour must be 'basic', 'excitement', 'performance' or 'no effect', got {behaviour!r}"
        )
    if behaviour == "no effect":
        return LabelCheck(
            None, None,
            f"labelled {k} but shows no measurable effect on the overall score: check whether the moment matters",
            f"gelabeld als {'functioneel' if k == 'functional' else 'emotioneel'} maar zonder meetbaar effect "
            "op het totaaloordeel: ga na of het moment ertoe doet",
        )
    if k == "functional" and behaviour == "excitement":
        return LabelCheck(False, "emotional",
                          "labelled functional but behaves like excitement: consider emotional",
                          "gelabeld als functioneel maar gedraagt zich als enthousiasmefactor: overweeg emotioneel")
    if k == "emotional" and behaviour == "basic":
        return LabelCheck(False, "functional",
                          "labelled emotional but behaves like a basic: consider functional",
                          "gelabeld als emotioneel maar gedraagt zich als basisfactor: overweeg functioneel")
    if behaviour == "performance":
        return LabelCheck(True, None,
                          f"labelled {k}; low scores cost and high scores pay off, so both the basics and a 9+ count",
                          f"gelabeld als {'functioneel' if k == 'functional' else 'emotioneel'}; lage scores kosten "
                          "en hoge scores lonen, dus zowel de basis als een 9+ telt")
    return LabelCheck(True, None, None, None)
