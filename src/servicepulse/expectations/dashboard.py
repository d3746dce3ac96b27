"""What the expectations dashboard shows: open cases at risk and signals per team."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.expectations.signals import load_snapshot
from servicepulse.models import Case, OrgUnit, Promise
from servicepulse.models.expectations import ForecastSnapshot, Signal, SignalRule

REASONS = ("promise_overdue", "promise_due_soon", "dark_too_long", "forecast_after_promise")


def at_risk(session: Session, now: datetime, *, due_hours: float = 24, dark_hours: float = 48,
            limit: int = 100) -> list[dict]:
    """Open cases with a promise due soon (or overdue), no customer-facing news for too long,
    or a forecast beyond the promise; most urgent first (earliest promise, then longest silence)."""
    snapshot = load_snapshot(session, now)
    rows: dict[int, dict] = {}

    def row(case_id: int) -> dict:
        return rows.setdefault(int(case_id), {"case_id": int(case_id), "reasons": [], "due_at": None,
                                              "silent_since": None, "expected_at": None})

    open_promises = [p for p in snapshot.promises if p.due_at <= now + timedelta(hours=due_hours)]
    for p in open_promises:
        r = row(p.case_id)
        r["reasons"].append("promise_overdue" if p.due_at <= now else "promise_due_soon")
        r["due_at"] = min(filter(None, [r["due_at"], p.due_at]))
    dark = snapshot.open_cases[now - snapshot.open_cases["last_facing_at"] >= pd.Timedelta(hours=dark_hours)]
    for case_id, item in dark.iterrows():
        row(case_id)["reasons"].append("dark_too_long")
        rows[int(case_id)]["silent_since"] = item["last_facing_at"].to_pydatetime()
    late = session.execute(
        select(Promise.case_id, func.min(Promise.due_at), func.max(ForecastSnapshot.expected_at))
        .join(ForecastSnapshot, ForecastSnapshot.case_id == Promise.case_id)
        .where(Promise.status == "open", Promise.due_at > now, ForecastSnapshot.expected_at > Promise.due_at)
        .group_by(Promise.case_id)).all()
    for case_id, due_at, expected_at in late:
        r = row(case_id)
        r["reasons"].append("forecast_after_promise")
        r["due_at"] = min(filter(None, [r["due_at"], due_at]))
        r["expected_at"] = expected_at
    if not rows:
        return []
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(list(rows))))}
    teams = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    for r in rows.values():
        case = cases.get(r["case_id"])
        r["external_id"] = case.external_id if case else str(r["case_id"])
        team = snapshot.open_cases["team_id"].get(r["case_id"]) if r["case_id"] in snapshot.open_cases.index else None
        team = case.last_team_id if (team is None or pd.isna(team)) and case else team
        r["team"] = teams.get(int(team)) if team is not None and not pd.isna(team) else None
    far = datetime.max.replace(tzinfo=now.tzinfo)
    ordered = sorted(rows.values(), key=lambda r: (r["due_at"] or far, r["silent_since"] or far))
    return ordered[:limit]


def signals_per_team(session: Session, *, since: datetime | None = None, team_id: int | None = None) -> list[dict]:
    """Unresolved signals per team and rule (rows: team, rule, count); ``team_id``: that team's only."""
    stmt = (select(OrgUnit.name, SignalRule.key, func.count(Signal.id))
            .join(SignalRule, SignalRule.id == Signal.rule_id).outerjoin(OrgUnit, OrgUnit.id == Signal.team_id)
            .where(Signal.resolved_at.is_(None)))
    if since is not None:
        stmt = stmt.where(Signal.fired_at >= since)
    if team_id is not None:
        stmt = stmt.where(Signal.team_id == team_id)
    stmt = stmt.group_by(OrgUnit.name, SignalRule.key)
    rows = [{"team": team or "-", "rule": rule, "count": int(n)} for team, rule, n in session.execute(stmt)]
    return sorted(rows, key=lambda r: (r["team"], r["rule"]))
