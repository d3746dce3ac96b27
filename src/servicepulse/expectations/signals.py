"""Proactive-communication signals: rules that look at cases as of ``now``.

Each rule yields *causes*: (case, cause key) pairs such as "dark since
<last customer-facing update>" or "promise 17 due soon". A cause fires once,
ever: the signals table has a unique key on (rule, case, cause key), and a
second run at a later ``now`` finds the cause recorded and stays silent.
A new silence (after a fresh update) or a second reopening is a new cause.

Rules look only at events that happened by ``now``. The history is read for
cases that are open or were closed within ``lookback`` of ``now``; causes older
than the lookback (a reopening last year) do not fire on a first run.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepulse.expectations.notify import enqueue_notifications
from servicepulse.expectations.promises import case_events_frame, evaluate_promises
from servicepulse.models import Case, OrgUnit, Promise
from servicepulse.models.expectations import ForecastSnapshot, Signal, SignalRule

# key -> (kind, default params). Hours are wall-clock hours.
DEFAULT_RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "dark_too_long": ("dark_too_long", {"hours": 48}),
    "promise_due_soon": ("promise_due_soon", {"hours": 4}),
    "reopened": ("reopened", {"lookback_hours": 72}),
    "repeat_contact": ("repeat_contact", {"hours": 24, "lookback_hours": 72}),
    "forecast_after_promise": ("forecast_after_promise", {}),
}
HISTORY_DAYS = 30


@dataclass
class Cause:
    case_id: int
    cause_key: str
    team_id: int | None = None
    promise_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    """What the rules see: events (by now) of the cases in view, and open promises."""

    now: datetime
    events: pd.DataFrame  # case_id, occurred_at, activity, direction, customer_facing, team_id, closes
    open_cases: pd.DataFrame  # index case_id: last_at, last_facing_at, team_id
    promises: list[Promise]


def ensure_default_rules(session: Session) -> list[SignalRule]:
    """Create the default rules that do not exist yet; returns all rules."""
    existing = {r.key for r in session.scalars(select(SignalRule))}
    for key, (kind, params) in DEFAULT_RULES.items():
        if key not in existing:
            session.add(SignalRule(key=key, kind=kind, params=dict(params), enabled=True))
    session.flush()
    return list(session.scalars(select(SignalRule).order_by(SignalRule.id)))


def _iso(moment) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def load_snapshot(session: Session, now: datetime) -> Snapshot:
    since = now - timedelta(days=HISTORY_DAYS)
    in_view = select(Case.id).where(
        or_(Case.closed_at.is_(None), Case.closed_at >= since), or_(Case.opened_at.is_(None), Case.opened_at <= now))
    events = case_events_frame(session, in_view, now)  # in stored order: by case, time, source order

    grouped = events.groupby("case_id", sort=False)
    last = grouped.tail(1).set_index("case_id")
    open_cases = pd.DataFrame({"last_at": last["occurred_at"]})[~last["closes"].to_numpy()]
    # The silence starts at the last customer-facing event, the case's first event,
    # or a reopening (the case was closed; from then on we owe the customer news).
    first = grouped["occurred_at"].transform("min") == events["occurred_at"]
    previous_closes = grouped["closes"].shift(1, fill_value=False).astype(bool)
    boundary = events["customer_facing"] | first | (previous_closes & ~events["closes"])
    open_cases["last_facing_at"] = events[boundary.to_numpy()].groupby("case_id")["occurred_at"].max()
    open_cases["team_id"] = events[events["team_id"].notna()].groupby("case_id")["team_id"].last()
    promises = list(session.scalars(select(Promise).where(Promise.status == "open", Promise.made_at <= now)))
    return Snapshot(now, events, open_cases, promises)


def _team_of(snapshot: Snapshot, case_id: int, fallback: int | None = None) -> int | None:
    if fallback is not None:
        return fallback
    team = snapshot.open_cases["team_id"].get(case_id) if case_id in snapshot.open_cases.index else None
    if (team is None or pd.isna(team)) and not snapshot.events.empty:
        teams = snapshot.events.loc[(snapshot.events["case_id"] == case_id) & snapshot.events["team_id"].notna(),
                                    "team_id"]
        team = teams.iloc[-1] if len(teams) else None
    return None if team is None or pd.isna(team) else int(team)


def dark_too_long(snapshot: Snapshot, params: dict, session: Session) -> Iterable[Cause]:
    limit = timedelta(hours=float(params.get("hours", 48)))
    dark = snapshot.open_cases[snapshot.now - snapshot.open_cases["last_facing_at"] >= limit]
    for case_id, row in dark.iterrows():
        hours = (snapshot.now - row["last_facing_at"]).total_seconds() / 3600
        yield Cause(int(case_id), f"dark:{_iso(row['last_facing_at'])}", _team_of(snapshot, case_id),
                    details={"since": _iso(row["last_facing_at"]), "hours": round(hours, 1)})


def promise_due_soon(snapshot: Snapshot, params: dict, session: Session) -> Iterable[Cause]:
    horizon = snapshot.now + timedelta(hours=float(params.get("hours", 4)))
    for promise in snapshot.promises:
        if snapshot.now < promise.due_at <= horizon:
            yield Cause(promise.case_id, f"promise:{promise.id}",
                        _team_of(snapshot, promise.case_id, promise.made_by_team_id), promise.id,
                        {"kind": promise.kind, "due_at": _iso(promise.due_at)})


def reopened(snapshot: Snapshot, params: dict, session: Session) -> Iterable[Cause]:
    since = snapshot.now - timedelta(hours=float(params.get("lookback_hours", 72)))
    events = snapshot.events
    previous_closes = events.groupby("case_id", sort=False)["closes"].shift(1, fill_value=False).astype(bool)
    hits = events[(previous_closes & ~events["closes"]).to_numpy() & (events["occurred_at"] >= since).to_numpy()]
    for row in hits.itertuples():
        yield Cause(int(row.case_id), f"reopened:{_iso(row.occurred_at)}", _team_of(snapshot, row.case_id),
                    details={"at": _iso(row.occurred_at), "activity": row.activity})


def repeat_contact(snapshot: Snapshot, params: dict, session: Session) -> Iterable[Cause]:
    window = pd.Timedelta(hours=float(params.get("hours", 24)))
    since = snapshot.now - timedelta(hours=float(params.get("lookback_hours", 72)))
    inbound = snapshot.events[snapshot.events["direction"] == "inbound"]
    gap = inbound["occurred_at"] - inbound.groupby("case_id", sort=False)["occurred_at"].shift(1)
    hits = inbound[(gap <= window).to_numpy() & (inbound["occurred_at"] >= since).to_numpy()]
    for row in hits.itertuples():
        yield Cause(int(row.case_id), f"repeat:{_iso(row.occurred_at)}", _team_of(snapshot, row.case_id),
                    details={"at": _iso(row.occurred_at), "activity": row.activity})


def forecast_after_promise(snapshot: Snapshot, params: dict, session: Session) -> Iterable[Cause]:
    """A resolution promise that the forecast's median already overshoots."""
    promises = [p for p in snapshot.promises if p.kind == "resolved_by" and p.due_at > snapshot.now]
    if not promises:
        return
    forecasts = {f.case_id: f for f in session.scalars(
        select(ForecastSnapshot).where(ForecastSnapshot.case_id.in_([p.case_id for p in promises])))}
    for promise in promises:
        forecast = forecasts.get(promise.case_id)
        if forecast is not None and forecast.expected_at > promise.due_at:
            yield Cause(promise.case_id, f"forecast:{promise.id}",
                        _team_of(snapshot, promise.case_id, promise.made_by_team_id), promise.id,
                        {"due_at": _iso(promise.due_at), "expected_at": _iso(forecast.expected_at),
                         "upper_at": _iso(forecast.upper_at)})


RULES: dict[str, Callable[[Snapshot, dict, Session], Iterable[Cause]]] = {
    "dark_too_long": dark_too_long,
    "promise_due_soon": promise_due_soon,
    "reopened": reopened,
    "repeat_contact": repeat_contact,
    "forecast_after_promise": forecast_after_promise,
}


def run_signals(session: Session, now: datetime, *, rules: Iterable[SignalRule] | None = None,
                notify: bool = True) -> list[Signal]:
    """Evaluate promises, then every enabled rule as of ``now``; record and return new signals.

    Notifications (e-mail, signed webhook) are queued as jobs in the same unit of work.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    evaluate_promises(session, now)
    rules = [r for r in (rules if rules is not None else ensure_default_rules(session)) if r.enabled]
    snapshot = load_snapshot(session, now)
    new: list[Signal] = []
    for rule in rules:
        seen = set(session.execute(select(Signal.case_id, Signal.cause_key).where(Signal.rule_id == rule.id)).all())
        for cause in RULES[rule.kind](snapshot, rule.params or {}, session):
            if (cause.case_id, cause.cause_key) in seen:
                continue
            signal = Signal(rule_id=rule.id, case_id=cause.case_id, team_id=cause.team_id,
                            promise_id=cause.promise_id, cause_key=cause.cause_key, fired_at=now,
                            details={"rule": rule.key, **cause.details})
            try:  # another run may record the same cause concurrently: the unique key decides
                with session.begin_nested():
                    session.add(signal)
                    session.flush()
            except IntegrityError:
                continue
            seen.add((cause.case_id, cause.cause_key))
            new.append(signal)
    if notify and new:
        enqueue_notifications(session, new, {r.id: r for r in rules}, now)
    return new


TeamIds = int | Collection[int] | None
WORK_LIST_SORTS = ("fired", "rule", "team", "case")


def _open_signals_where(stmt, team_ids: TeamIds):
    """Unresolved signals of one team, of these teams (none when empty), or of every team (None, signals
    of no team included): the scope `org.access.Actor.visible_team_ids()` gives."""
    stmt = stmt.where(Signal.resolved_at.is_(None))
    if team_ids is None:
        return stmt
    if isinstance(team_ids, int):
        return stmt.where(Signal.team_id == team_ids)
    return stmt.where(Signal.team_id.in_(sorted(team_ids)) if team_ids else false())


def team_work_list(session: Session, team_ids: TeamIds, *, sort: str = "fired", limit: int | None = None,
                   offset: int = 0) -> list[Signal]:
    """Unresolved signals of a team, of several teams or (``None``) of all teams: newest first, or ``sort`` by
    rule key, team name or case number (alphabetical, newest first within each). ``limit``/``offset`` page the
    list in SQL; without a limit every open signal in scope is returned (`count_team_work` gives the total)."""
    if sort not in WORK_LIST_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    stmt = _open_signals_where(select(Signal), team_ids)
    order = []
    if sort == "rule":
        stmt = stmt.join(SignalRule, SignalRule.id == Signal.rule_id)
        order.append(SignalRule.key)
    elif sort == "team":  # a signal of no team sorts first, as an empty name
        stmt = stmt.outerjoin(OrgUnit, OrgUnit.id == Signal.team_id)
        order.append(func.coalesce(OrgUnit.name, ""))
    elif sort == "case":
        stmt = stmt.join(Case, Case.id == Signal.case_id)
        order.append(Case.external_id)
    stmt = stmt.order_by(*order, Signal.fired_at.desc(), Signal.id.desc())
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def count_team_work_by_rule(session: Session, team_ids: TeamIds) -> dict[int, int]:
    """Open signals per rule id for these teams, so the work list can say what each rule found."""
    stmt = _open_signals_where(select(Signal.rule_id, func.count(Signal.id)), team_ids).group_by(Signal.rule_id)
    return {int(rule_id): int(n) for rule_id, n in session.execute(stmt)}


def work_list_rules(session: Session, team_ids: TeamIds) -> list[dict]:
    """Every rule with its thresholds and its open signals in this scope: the work list explains itself."""
    counts = count_team_work_by_rule(session, team_ids)
    return [{"id": r.id, "key": r.key, "kind": r.kind, "params": {**DEFAULT_RULES.get(r.kind, ("", {}))[1],
                                                                      **(r.params or {})},
             "enabled": r.enabled, "open": counts.get(r.id, 0)}
            for r in session.scalars(select(SignalRule).order_by(SignalRule.id))]


def count_team_work(session: Session, team_ids: TeamIds) -> int:
    """How many signals `team_work_list` lists for these teams, all pages together."""
    return int(session.scalar(_open_signals_where(select(func.count(Signal.id)), team_ids)) or 0)
