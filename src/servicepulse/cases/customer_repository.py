"""Queries of the cases domain about one customer (for the customer page): their cases an actor may see.

Scoping as everywhere in this domain (`repository.visible_cases`): readers of every team see every case,
others the cases one of their teams worked on."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.cases.repository import visible_cases
from servicepulse.models import Case, Journey
from servicepulse.models.cases import CaseFacts
from servicepulse.org import Actor


def customer_cases(session: Session, customer_id: int, actor: Actor | None) -> tuple[list[Case], int]:
    """(the customer's cases the actor may see, newest first; how many more exist that they may not see)."""
    stmt = select(Case).where(Case.customer_id == customer_id)
    scope = visible_cases(actor)
    if scope is not None:
        stmt = stmt.where(scope)
    cases = list(session.scalars(stmt.order_by(Case.opened_at.desc().nulls_last(), Case.id.desc())))
    total = int(session.scalar(select(func.count()).select_from(Case).where(Case.customer_id == customer_id)) or 0)
    return cases, total - len(cases)


def facts_by_case(session: Session, case_ids: list[int]) -> dict[int, CaseFacts]:
    if not case_ids:
        return {}
    return {f.case_id: f for f in session.scalars(select(CaseFacts).where(CaseFacts.case_id.in_(case_ids)))}


def journeys_by_id(session: Session) -> dict[int, Journey]:
    return {j.id: j for j in session.scalars(select(Journey))}


def customer_of_case_ids(session: Session, case_ids: list[int]) -> dict[int, int | None]:
    """case id -> its customer id."""
    if not case_ids:
        return {}
    return dict(session.execute(select(Case.id, Case.customer_id).where(Case.id.in_(case_ids))).all())
