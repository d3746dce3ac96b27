"""Queries of the cases domain: one case, a page of cases with facts, the effort model.

Who sees which case (servicepulse.org.Actor): readers of every team see every case; others the
cases one of their teams worked on (the case's last team, or a team on any of its events).
Functions that take an ``actor`` treat a case outside it as not found."""

from __future__ import annotations

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from servicepulse.cases.effort import active_model
from servicepulse.errors import NotFound
from servicepulse.kernels.eventlog.facts import FACT_COLUMNS
from servicepulse.models import Case, CaseEvent, Journey, OrgUnit
from servicepulse.models.cases import CaseFacts, EffortModel
from servicepulse.org import Actor

SORTS = {"effort": CaseFacts.effort_index.desc(), "opened": Case.opened_at.desc(),
         "dark": CaseFacts.dark_period_hours.desc(), "contacts": CaseFacts.inbound_contacts.desc()}


def visible_cases(actor: Actor | None):
    """A WHERE clause on Case limiting it to the actor's cases; None: every case."""
    visible = actor.visible_team_ids() if actor is not None else None
    if visible is None:
        return None
    if not visible:
        return false()
    teams = sorted(visible)
    return or_(Case.last_team_id.in_(teams),
               Case.id.in_(select(CaseEvent.case_id).where(CaseEvent.team_id.in_(teams))))


def can_see_case(session: Session, actor: Actor | None, case: Case) -> bool:
    clause = visible_cases(actor)
    return clause is None or session.scalar(select(Case.id).where(Case.id == case.id, clause)) is not None


def get_case(session: Session, external_id: str, actor: Actor | None = None) -> Case:
    """One case; NotFound also when it is outside `actor`'s teams (so its existence is not revealed)."""
    case = session.scalar(select(Case).where(Case.external_id == external_id))
    if case is None or not can_see_case(session, actor, case):
        raise NotFound(f"no case with id '{external_id}'")
    return case


def get_case_by_id(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def facts_of(session: Session, case_id: int) -> dict | None:
    row = session.get(CaseFacts, case_id)
    if row is None:
        return None
    out = {c: getattr(row, c) for c in FACT_COLUMNS}
    out["effort_index"] = row.effort_index
    out["effort_estimate"] = row.effort_estimate
    return out


def case_summary(session: Session, external_id: str, actor: Actor | None = None) -> dict:
    case = get_case(session, external_id, actor)
    facts = facts_of(session, case.id)
    journey = session.get(Journey, case.journey_id) if case.journey_id else None
    team = session.get(OrgUnit, case.last_team_id) if case.last_team_id else None
    if facts:
        facts = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in facts.items()}
    return {
        "external_id": case.external_id, "journey": journey.key if journey else None,
        "opened_at": case.opened_at.isoformat() if case.opened_at else None,
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "last_team": team.name if team else None, "facts": facts,
    }


def cases_without_facts(session: Session) -> list[int]:
    return list(session.scalars(
        select(CaseEvent.case_id).distinct()
        .where(~select(CaseFacts.case_id).where(CaseFacts.case_id == CaseEvent.case_id).exists())))


def list_cases(session: Session, *, journey_id: int | None = None, sort: str = "effort", query: str | None = None,
               page: int = 1, page_size: int = 50, actor: Actor | None = None) -> tuple[list[dict], int]:
    stmt = (select(Case, CaseFacts, Journey)
            .join(CaseFacts, CaseFacts.case_id == Case.id)
            .outerjoin(Journey, Journey.id == Case.journey_id))
    count = select(func.count()).select_from(Case).join(CaseFacts, CaseFacts.case_id == Case.id)
    scope = visible_cases(actor)
    if scope is not None:
        stmt, count = stmt.where(scope), count.where(scope)
    if journey_id is not None:
        stmt = stmt.where(Case.journey_id == journey_id)
        count = count.where(Case.journey_id == journey_id)
    if query:
        stmt = stmt.where(Case.external_id.contains(query, autoescape=True))
        count = count.where(Case.external_id.contains(query, autoescape=True))
    order = SORTS.get(sort, SORTS["effort"])
    rows = session.execute(stmt.order_by(order.nulls_last() if hasattr(order, "nulls_last") else order, Case.id)
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return [{"case": c, "facts": f, "journey": j} for c, f, j in rows], int(session.scalar(count) or 0)


def active_effort_model(session: Session) -> EffortModel | None:
    return active_model(session)
