"""Contact costs and avoidable contact in the demo: handling times, and the known cause of every contact.

The stories (`stories.py`) tell why a customer contacts us when they tell the
contact: the call sites mark it through :func:`mark`. Every inbound
customer-facing contact is therefore *value demand* (the customer's own
matter: the first contact of a case, or information we asked for) or *failure
demand* with one of these reasons and the department that caused it:

==================  ==========================================================
broken_promise      we promised a call-back, visit window, reply or resolution
                    date and let it pass (a missed appointment included): the
                    department of the team that made the promise
repeat              the back office closed the ticket without solving it; the
                    customer calls again: the department of the closing team
department          the first invoice raised a question: the department that
                    owns the invoice moment (billing)
silence             a long wait without news makes the customer chase: the
                    department that owns the waiting moment
==================  ==========================================================

A chase in a silence that the opening hours pushed past our next word (the
engineer came first) counts as ``repeat``. A contact told as a chase while a promise of the case is past due and not yet
kept counts as ``broken_promise`` (the customer chases the broken promise),
whatever the call site; that is the classification's own precedence too.
The demo log has no status-question activity, so ``chasing`` by activity
does not occur in it.

Handling times: every event handled by a team carries ``handling_minutes`` in
its attributes (lognormal around the means below); events without a team
(the customer's self-service, system mails) carry none, so the product prices
them by channel and direction. Two functional moments are deliberately
*over-invested*: every order is checked by hand and the intake of a billing
question is long (``Order placed`` and ``Billing question asked``), so
'Placing the order' and 'Asking the question' score well above 7 at a high
cost per case. The emotional moments of truth the demo leaves below their
norm with a real effect on the overall score ('Waiting for the engineer',
'Switchover day', 'Waiting to be connected') are the *under-invested* ones
(see `effects.py`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from servicepulse.demo.catalogue import JOURNEYS, TEAM_BY_KEY

REASONS = ("broken_promise", "repeat", "department", "silence")
OVER_INVESTED = ("order", "ask_question")
# emotional moments that score a 7 or more but stay below their norm of 9, with a clear effect on the
# recommendation score: where a euro does most good (the emotional waits below 7 are "fix the basics" first)
UNDER_INVESTED = ("installation", "engineer_visit")

# mean handling minutes per activity (events handled by a team); others by channel below
ACTIVITY_MINUTES = {
    "Order placed": 26.0,  # gold-plated: every order checked by hand, with a call to the customer
    "Billing question asked": 19.0,  # long intake of a billing question
    "Handed to back office": 2.0,
    "Handed to retention team": 2.0,
    "Ticket closed": 2.0,
    "Ticket reopened": 3.0,
    "Case closed": 2.0,
    "Case resolved": 2.0,
    "Remote diagnosis": 20.0,
    "Invoice corrected": 15.0,
    "Order picked up": 10.0,
    "Connection activated": 10.0,
}
CHANNEL_MINUTES = {"phone": 6.0, "chat": 8.0, "email": 5.0, "app": 4.0, "web": 4.0, "sms": 1.0, "field": 70.0}
INTERNAL_MINUTES = 8.0
_MOMENT_DEPARTMENT = {(j.key, m.key): m.department for j in JOURNEYS for m in j.moments}


def team_department(team: str | None) -> str | None:
    return TEAM_BY_KEY[team].department if team else None


def moment_department(journey: str, moment: str | None) -> str | None:
    return _MOMENT_DEPARTMENT.get((journey, moment))


def mark(story, reason: str, department: str | None, since: float | None = None) -> None:
    """Record why the contact the story just told (its last event) happened; a promise past due and not yet
    kept at that time makes it ``broken_promise`` (the team that made the promise caused it). ``since``: when
    the silence began (a chase in a wait)."""
    t = story.events[-1][0]
    pending = [p for p in story.promises if p.due_at < t and (p.fulfilled_at is None or p.fulfilled_at > t)]
    if pending:
        promise = max(pending, key=lambda p: p.due_at)
        reason, department = "broken_promise", team_department(promise.team)
    story.causes[len(story.events) - 1] = (reason, department, since)


def causes_of(story) -> list[tuple[str | None, str | None]]:
    """(reason, causing department) per event of the story, in its order: ``value`` for an unmarked inbound
    customer-facing contact, None for every other event."""
    ours = [e[0] for e in story.events if e[3] == "outbound" and e[5]]
    out: list[tuple[str | None, str | None]] = []
    for i, (t, _act, _ch, direction, _team, facing, _mom, _actor) in enumerate(story.events):
        if direction == "inbound" and facing:
            reason, department, since = story.causes.get(i, ("value", None, None))
            if reason == "silence" and any(since < at < t for at in ours):
                # the opening hours pushed the chase past our next word (the visit came first): a repeat
                reason = "repeat"
            out.append((reason, department))
        else:
            out.append((None, None))
    return out


def annotate(ev: pd.DataFrame, causes: list, seed: int) -> pd.DataFrame:
    """Add the known cause (``cause``, ``cause_department``) and the handling minutes of every event."""
    ev["cause"] = [c[0] for c in causes]
    ev["cause_department"] = [c[1] for c in causes]
    rng = np.random.default_rng([seed, 18])  # its own stream: the rest of the demo does not move
    mean = ev["activity"].map(ACTIVITY_MINUTES)
    by_channel = ev["channel"].map(CHANNEL_MINUTES).fillna(INTERNAL_MINUTES)
    mean = mean.fillna(by_channel).to_numpy(dtype=float)
    minutes = np.round(mean * rng.lognormal(-0.08, 0.4, len(ev)), 1)
    ev["handling_minutes"] = np.where(ev["team"].notna().to_numpy(), np.maximum(minutes, 0.5), np.nan)
    return ev


def event_attributes(ev: pd.DataFrame) -> list[str]:
    """The stored ``attributes`` of each event: its handling time where the log has it."""
    return ["{}" if np.isnan(m) else json.dumps({"handling_minutes": float(m)})
            for m in ev["handling_minutes"].to_numpy(dtype=float)]
