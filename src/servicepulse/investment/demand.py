"""Avoidable contact: every customer contact as value demand or failure demand, with its reason and the
department that caused it.

A *contact* is an inbound, customer-facing event. Each is judged on its own case's history, the first rule
that holds wins:

1. ``value``: the case's first contact (the customer's own matter), or an answer to a request of ours (the
   latest event of ours before it asked for something: ``REQUEST_PATTERN``).
2. ``broken_promise``: a promise of the case fell due before the contact, was not kept by then, and we have
   not been in touch since it fell due (a missed appointment, a late call-back, a passed reply date). Caused
   by the department of the team that made the promise.
3. ``repeat``: we closed the case (a closing activity, as the case-facts kernel reads it) after the
   customer's previous contact, and the customer is back: the matter was not solved. Caused by the department
   of the closing team.
4. ``department``: the latest customer-facing event of ours before the contact, at most
   ``failure_demand_days`` earlier, is an action of the kind that makes customers call when it goes wrong
   (``CAUSING_PATTERN``: invoices, bills, settlements): caused by the department that did it (its team's
   department, or the department owning its moment).
5. ``chasing``: the contact is a status question by its activity (``STATUS_PATTERN``: "where is my...",
   "status") or by its own text where the record has one (an event attribute ``TEXT_KEYS``: the code
   frame's status-question themes, ``CHASING_THEMES`` and their children, found in it); caused by the
   department owning the contact's moment.
6. ``silence``: at least ``silence_hours`` without any customer-facing event in the case before the contact;
   caused by the department owning the moment the customer waits in.
7. ``chasing``: a contact within ``failure_demand_days`` of the customer's previous one in a case whose
   analysed comment, written after it, complains of one of those themes (not kept informed, heard nothing,
   had to chase): the customer came back to ask; caused by the department owning the contact's moment.
8. ``repeat``: any other contact within ``failure_demand_days`` of the customer's previous one.
9. ``value``: the rest.

A comment is evidence about its case, not about one contact, so it only names the reason of a contact no
more specific rule explains (7 after 2-6): a chase in a silence stays ``silence``.

Computed in pandas from the stored events and promises on every request; nothing is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from servicepulse.kernels.eventlog.facts import DEFAULT_CLOSING
from servicepulse.kernels.text import CodeFrame, find_themes

REASONS = ("broken_promise", "repeat", "department", "chasing", "silence")
KINDS = ("value", *REASONS)
REQUEST_PATTERN = re.compile(r"waiting for customer|information requested|wacht op klant|informatie gevraagd",
                             re.IGNORECASE)
CAUSING_PATTERN = re.compile(r"invoice|bill|settlement|factuur|nota|afrekening", re.IGNORECASE)
STATUS_PATTERN = re.compile(r"status|where is|waar blijft|hoe staat", re.IGNORECASE)
CLOSING_PATTERN = re.compile(DEFAULT_CLOSING, re.IGNORECASE)
CHASING_THEMES = ("kept_informed",)  # the default code frame's status-question theme ("status", "no news")
TEXT_KEYS = ("text", "subject", "summary", "description")  # where an event's attributes carry its words


@dataclass(frozen=True)
class DemandRules:
    repeat_days: float = 7.0
    silence_hours: float = 36.0

    @classmethod
    def from_settings(cls, settings) -> DemandRules:
        return cls(float(settings.failure_demand_days), float(settings.silence_hours))


def _department(team_id, moment_id, team_dept: dict, moment_dept: dict):
    if team_id is not None and not pd.isna(team_id) and int(team_id) in team_dept:
        return team_dept[int(team_id)]
    if moment_id is not None and not pd.isna(moment_id):
        return moment_dept.get(int(moment_id))
    return None


def chasing_themes(codeframe: CodeFrame) -> list[str]:
    """``CHASING_THEMES`` that the code frame has, with their descendants."""
    found = [t.key for t in codeframe.themes if t.key in CHASING_THEMES]
    grew = True
    while grew:
        more = [t.key for t in codeframe.themes if t.parent in found and t.key not in found]
        found += more
        grew = bool(more)
    return found


def chasing_texts(events: pd.DataFrame, codeframe: CodeFrame, themes: list[str]) -> set:
    """Row labels of the inbound customer-facing events whose own text (attributes ``TEXT_KEYS``) mentions one
    of ``themes``."""
    wanted, out = set(themes), set()
    if not wanted or "attributes" not in events.columns:
        return out
    contacts = (events["direction"] == "inbound") & events["customer_facing"].astype(bool)
    for label, attributes in events.loc[contacts, "attributes"].items():
        if not isinstance(attributes, dict):
            continue
        text = " ".join(v for k in TEXT_KEYS if isinstance(v := attributes.get(k), str))
        if text and any(m.theme in wanted for m in find_themes(text, "unknown", codeframe)):
            out.add(label)
    return out


def classify(events: pd.DataFrame, promises: pd.DataFrame, team_dept: dict[int, int],
             moment_dept: dict[int, int | None], rules: DemandRules = DemandRules(),
             chasing_text: set | None = None, chasing_comments: dict[int, list] | None = None) -> pd.DataFrame:
    """One row per contact (index: the event's row label in ``events``) with ``reason`` (one of `KINDS`) and
    ``department`` (the causing department's id, or None for value demand and unknown causes).

    ``events`` as `repository.event_frame` gives them (ordered by case, time, source order); ``promises``:
    case_id, due_at, kept_at, team_id; ``team_dept``: team id -> department id; ``moment_dept``: moment id ->
    the department owning it; ``chasing_text``: row labels of contacts whose own text is a status question
    (`chasing_texts`); ``chasing_comments``: case id -> the times of its comments complaining of a
    status-question theme (`repository.chasing_comments`)."""
    chasing_text = chasing_text or set()
    chasing_comments = chasing_comments or {}
    if events.empty:
        return pd.DataFrame(columns=["reason", "department"])
    repeat = pd.Timedelta(days=rules.repeat_days)
    silence = pd.Timedelta(hours=rules.silence_hours)
    by_case: dict[int, list[tuple]] = {}
    for case_id, due, kept, team in promises[["case_id", "due_at", "kept_at", "team_id"]].itertuples(index=False):
        by_case.setdefault(int(case_id), []).append((due, kept, team))

    labels, reasons, departments = [], [], []
    case = None
    columns = ["case_id", "occurred_at", "activity", "direction", "customer_facing", "team_id", "moment_id"]
    for label, (case_id, at, activity, direction, facing, team_id, moment_id) in zip(
            events.index.tolist(), events[columns].itertuples(index=False)):
        if case_id != case:
            case = case_id
            contacts = 0
            last_contact = last_facing = last_out_facing = None
            last_out_activity = last_out_dept = last_ours_activity = None
            closed_by = None  # the closing department since the previous contact (or False: none)
            closed = False
            case_promises = by_case.get(int(case_id), [])
            complaints = chasing_comments.get(int(case_id), [])
        facing = bool(facing)
        if direction == "inbound" and facing:
            reason, dept = "value", None
            if contacts == 0:
                pass
            elif last_ours_activity is not None and REQUEST_PATTERN.search(last_ours_activity):
                pass
            else:
                broken = [(due, team) for due, kept, team in case_promises
                          if due < at and (kept is None or pd.isna(kept) or kept > at)
                          and (last_out_facing is None or last_out_facing <= due) and at - due <= repeat]
                if broken:
                    _, team = max(broken, key=lambda p: p[0])
                    reason, dept = "broken_promise", _department(team, None, team_dept, moment_dept)
                elif closed:
                    reason, dept = "repeat", closed_by
                elif (last_out_activity is not None and at - last_out_facing <= repeat
                      and CAUSING_PATTERN.search(last_out_activity)):
                    reason, dept = "department", last_out_dept
                elif STATUS_PATTERN.search(activity or "") or label in chasing_text:
                    reason, dept = "chasing", _department(None, moment_id, team_dept, moment_dept)
                elif last_facing is not None and at - last_facing >= silence:
                    reason, dept = "silence", _department(None, moment_id, team_dept, moment_dept)
                elif last_contact is not None and at - last_contact <= repeat:
                    later = any(written >= at for written in complaints)
                    reason = "chasing" if later else "repeat"
                    dept = _department(None, moment_id, team_dept, moment_dept)
            labels.append(label)
            reasons.append(reason)
            departments.append(dept)
            contacts += 1
            last_contact = at
            closed = False
            closed_by = None
        elif direction != "inbound":
            last_ours_activity = activity
            if facing:
                last_out_facing = at
                last_out_activity = activity
                last_out_dept = _department(team_id, moment_id, team_dept, moment_dept)
            if contacts and CLOSING_PATTERN.search(activity or ""):
                closed = True
                closed_by = _department(team_id, moment_id, team_dept, moment_dept)
        if facing:
            last_facing = at
    return pd.DataFrame({"reason": reasons, "department": pd.Series(departments, index=labels, dtype=object)},
                        index=labels)


def is_failure(reason: pd.Series) -> pd.Series:
    return reason != "value"


def share_table(contacts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of ``by``: contacts, failure-demand contacts, their share and cost (contacts need ``reason``
    and ``cost``)."""
    if contacts.empty:
        return pd.DataFrame(columns=["contacts", "failure", "share", "cost", "failure_cost"])
    failure = is_failure(contacts["reason"])
    frame = contacts.assign(failure=failure.astype(int), failure_cost=np.where(failure, contacts["cost"], 0.0))
    grouped = frame.groupby(by, dropna=True)
    out = pd.DataFrame({"contacts": grouped.size(), "failure": grouped["failure"].sum(),
                        "cost": grouped["cost"].sum(), "failure_cost": grouped["failure_cost"].sum()})
    out["share"] = out["failure"] / out["contacts"]
    return out
