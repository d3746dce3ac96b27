"""One case told from the customer's side.

Every event in order, each marked with what it meant to the customer: they
tried to reach us (inbound; outside opening hours flagged), we told them
something (customer-facing), the case waited on them, it was handed from one
team to another, it was closed or reopened. Between customer-facing moments
of an open case, the stretches of silence ("dark periods") are listed with
their length, as are the promises made and whether they were kept. The same
definitions as the kernel's facts (`servicepulse.kernels.eventlog.facts`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.kernels.eventlog import FactsConfig, OpeningHours
from servicepulse.models import Case, CaseEvent, OrgUnit, Promise

DARK_MIN_HOURS = 24.0  # silences shorter than a day are not drawn


@dataclass
class Step:
    at: datetime
    activity: str
    channel: str | None
    direction: str | None
    team: str | None
    actor: str | None
    customer_facing: bool
    kinds: list[str] = field(default_factory=list)  # contact, after_hours, told, waiting, handoff, closed, reopened
    handoff_from: str | None = None
    line_change: str | None = None  # 'front_to_back' / 'back_to_front'


@dataclass
class DarkPeriod:
    start: datetime
    end: datetime
    hours: float
    ongoing: bool = False


@dataclass
class PromiseLine:
    kind: str
    made_at: datetime
    due_at: datetime
    status: str
    settled_at: datetime | None


@dataclass
class Timeline:
    case: Case
    steps: list[Step]
    dark_periods: list[DarkPeriod]
    promises: list[PromiseLine]
    start: datetime | None
    end: datetime | None

    def position(self, at: datetime) -> float:
        """Where a moment sits on the drawn time axis, 0-100."""
        if self.start is None or self.end is None or self.end <= self.start:
            return 0.0
        return max(0.0, min(100.0, (at - self.start) / (self.end - self.start) * 100.0))


def build(session: Session, case: Case, calendar: OpeningHours | None = None, config: FactsConfig | None = None,
          now: datetime | None = None) -> Timeline:
    calendar = calendar or OpeningHours()
    config = config or FactsConfig()
    closing = re.compile(config.closing_pattern, re.IGNORECASE)
    waiting = re.compile(config.waiting_pattern, re.IGNORECASE)
    rows = session.execute(
        select(CaseEvent, OrgUnit.name).outerjoin(OrgUnit, OrgUnit.id == CaseEvent.team_id)
        .where(CaseEvent.case_id == case.id).order_by(CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id)).all()
    steps: list[Step] = []
    if rows:
        open_flags = calendar.is_open(pd.DatetimeIndex([e.occurred_at for e, _ in rows]).tz_convert("UTC"))
    prev_team = prev_line = None
    was_closed = False
    for i, (e, team) in enumerate(rows):
        step = Step(e.occurred_at, e.activity, e.channel, e.direction, team, e.actor, bool(e.customer_facing))
        if e.direction == "inbound":
            step.kinds.append("contact")
            if not bool(open_flags[i]):
                step.kinds.append("after_hours")
        if e.customer_facing:
            step.kinds.append("told")
        if waiting.search(e.activity):
            step.kinds.append("waiting")
        if team is not None:
            if prev_team is not None and team != prev_team:
                step.kinds.append("handoff")
                step.handoff_from = prev_team
            prev_team = team
        if e.line in ("front", "back"):
            if prev_line is not None and e.line != prev_line:
                step.line_change = f"{prev_line}_to_{e.line}"
            prev_line = e.line
        is_closing = bool(closing.search(e.activity))
        if was_closed and not is_closing:
            step.kinds.append("reopened")
        if is_closing:
            step.kinds.append("closed")
        was_closed = is_closing
        steps.append(step)
    dark = _dark_periods(steps, case.closed_at is None, now)
    promises = [PromiseLine(p.kind, p.made_at, p.due_at, p.status, p.kept_at or p.broken_at)
                for p in session.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.made_at))]
    times = [s.at for s in steps] + [p.due_at for p in promises] + [d.end for d in dark]
    return Timeline(case, steps, dark, promises, min(times) if times else None, max(times) if times else None)


def _dark_periods(steps: list[Step], still_open: bool, now: datetime | None) -> list[DarkPeriod]:
    """Open stretches without a customer-facing event, as the kernel measures them:
    a stretch starts at the first event, a customer-facing event or a reopening and
    runs until the next such boundary; time while closed does not count."""
    out: list[DarkPeriod] = []
    start: datetime | None = None
    closed = False
    for i, s in enumerate(steps):
        boundary = i == 0 or s.customer_facing or "reopened" in s.kinds
        if boundary:
            if start is not None and not closed:
                _add(out, start, s.at)
            start = s.at
        elif "closed" in s.kinds and start is not None and not closed:
            _add(out, start, s.at)
            start = None
        closed = "closed" in s.kinds
        if closed:
            start = None
    if start is not None and not closed and still_open and now is not None:
        _add(out, start, now, ongoing=True)
    return out


def _add(out: list[DarkPeriod], start: datetime, end: datetime, ongoing: bool = False) -> None:
    hours = (end - start).total_seconds() / 3600.0
    if hours >= DARK_MIN_HOURS:
        out.append(DarkPeriod(start, end, hours, ongoing))


def as_json(t: Timeline) -> dict:
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "case": t.case.external_id,
        "steps": [{"at": iso(s.at), "activity": s.activity, "channel": s.channel, "direction": s.direction,
                   "team": s.team, "actor": s.actor, "customer_facing": s.customer_facing, "kinds": s.kinds,
                   "handoff_from": s.handoff_from, "line_change": s.line_change} for s in t.steps],
        "dark_periods": [{"start": iso(d.start), "end": iso(d.end), "hours": round(d.hours, 2), "ongoing": d.ongoing}
                         for d in t.dark_periods],
        "promises": [{"kind": p.kind, "made_at": iso(p.made_at), "due_at": iso(p.due_at), "status": p.status,
                      "settled_at": iso(p.settled_at)} for p in t.promises],
    }
