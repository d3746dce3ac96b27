"""Queries of the expectations domain about one customer's cases (for the customer page): their open
promises and their signals. The caller passes only the cases the actor may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.models import OrgUnit
from servicepulse.models.expectations import Promise, Signal, SignalRule


def open_promises(session: Session, case_ids: list[int]) -> list[Promise]:
    """Promises still open on these cases, the soonest due first."""
    if not case_ids:
        return []
    return list(session.scalars(select(Promise).where(Promise.case_id.in_(case_ids), Promise.status == "open")
                                .order_by(Promise.due_at, Promise.id)))


def case_signals(session: Session, case_ids: list[int]) -> list[tuple[Signal, str, str | None]]:
    """(signal, rule key, team name) of these cases, unresolved first, then newest first."""
    if not case_ids:
        return []
    rows = session.execute(select(Signal, SignalRule.key, OrgUnit.name)
                           .join(SignalRule, SignalRule.id == Signal.rule_id)
                           .outerjoin(OrgUnit, OrgUnit.id == Signal.team_id)
                           .where(Signal.case_id.in_(case_ids))
                           .order_by(Signal.fired_at.desc(), Signal.id.desc())).all()
    return sorted(((s, key, team) for s, key, team in rows), key=lambda r: r[0].resolved_at is not None)
