"""Queries of the follow-ups domain about one customer (for the customer page): the follow-ups about them,
with their contacts and gestures, within the teams an actor may see (`access.can_view`'s rule)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from servicepulse.models import FollowUp
from servicepulse.models.followups import Gesture
from servicepulse.org import Actor


def _about(customer_id: int, case_ids: list[int], response_ids: list[int]):
    return or_(FollowUp.customer_id == customer_id, FollowUp.case_id.in_(case_ids or [-1]),
               FollowUp.response_id.in_(response_ids or [-1]))


def customer_followups(session: Session, customer_id: int, case_ids: list[int], response_ids: list[int],
                       actor: Actor) -> list[FollowUp]:
    """Follow-ups of the customer, their cases or their responses, open ones first, then newest first."""
    stmt = select(FollowUp).options(selectinload(FollowUp.contacts)).where(_about(customer_id, case_ids, response_ids))
    scope = actor.team_clause(FollowUp.team_id)
    if scope is not None:
        stmt = stmt.where(scope)
    rows = list(session.scalars(stmt.order_by(FollowUp.created_at.desc(), FollowUp.id.desc())))
    return sorted(rows, key=lambda f: f.status == "closed")


def any_followup_of_teams(session: Session, customer_id: int, team_ids: frozenset[int], open_only: bool = False
                          ) -> bool:
    """Whether a follow-up about the customer (by the customer column) belongs to one of these teams."""
    if not team_ids:
        return False
    stmt = select(FollowUp.id).where(FollowUp.customer_id == customer_id, FollowUp.team_id.in_(sorted(team_ids)))
    if open_only:
        stmt = stmt.where(FollowUp.status != "closed")
    return session.scalar(stmt.limit(1)) is not None


def gestures_by_followup(session: Session, followup_ids: list[int]) -> dict[int, list[Gesture]]:
    out: dict[int, list[Gesture]] = {}
    if not followup_ids:
        return out
    for g in session.scalars(select(Gesture).where(Gesture.followup_id.in_(followup_ids))
                             .order_by(Gesture.at, Gesture.id)):
        out.setdefault(g.followup_id, []).append(g)
    return out
