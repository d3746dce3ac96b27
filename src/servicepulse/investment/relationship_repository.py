"""Queries behind relationship health: who heard from us only through a bill, and who had a bad last experience
and heard nothing since. Aggregates in SQL; one row per customer, nothing stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from servicepulse.models import Case, CaseEvent, Customer, FollowUp, FollowUpContact, Response
from servicepulse.org import Actor


def transactional_only(session: Session, actor: Actor, activities: list[str], since: datetime,
                       until: datetime) -> list[tuple]:
    """(customer id, customer number, segment, last event at, team of the latest case, latest case id) of the
    customers with events in [since, until) that are all transactional (``activities``, case-insensitive).
    Team leads and agents: customers with a case of one of their teams in the window."""
    names = sorted({a.strip().lower() for a in activities if a.strip()})
    if not names:
        return []
    transactional = func.lower(CaseEvent.activity).in_(names)
    contact = CaseEvent.customer_facing.is_(True)  # a contact; internal steps (a case closed) are none
    stmt = (
        select(Case.customer_id, func.sum(case((contact, 1), else_=0)),
               func.sum(case((and_(contact, transactional), 1), else_=0)),
               func.max(CaseEvent.occurred_at), func.max(Case.id))
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.customer_id.is_not(None), CaseEvent.occurred_at >= since, CaseEvent.occurred_at < until)
        .group_by(Case.customer_id)
    )
    tc, te = aliased(Case, name="tc"), aliased(CaseEvent, name="te")
    clause = actor.team_clause(tc.last_team_id)
    if clause is not None:
        stmt = stmt.where(Case.customer_id.in_(select(tc.customer_id).join(te, te.case_id == tc.id)
                                               .where(clause, te.occurred_at >= since, te.occurred_at < until)))
    picked = {int(c): (last, int(k)) for c, n, t, last, k in session.execute(stmt).all() if n and n == t}
    if not picked:
        return []
    out = []
    ids = sorted(picked)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        rows = session.execute(select(Customer.id, Customer.external_id, Customer.segment)
                               .where(Customer.id.in_(chunk))).all()
        teams = dict(session.execute(select(Case.id, Case.last_team_id)
                                     .where(Case.id.in_([picked[c][1] for c in chunk]))).all())
        for cid, number, segment in rows:
            last, case_id = picked[cid]
            out.append((cid, number, segment, last, teams.get(case_id), case_id))
    return sorted(out, key=lambda r: r[0])


def silent_after_bad(session: Session, actor: Actor, since: datetime, until: datetime, nps_max: int,
                     grade_max: int) -> list[tuple]:
    """(customer id, customer number, segment, response id, submitted at, nps, grade, team id, case id) of the customers whose
    latest answer was submitted in [since, until), was bad (NPS at most ``nps_max``, or without an NPS a grade at
    most ``grade_max``), and after which nothing came from us: no outbound event in any of their cases and no
    contact logged on a follow-up. Team leads and agents: the answers of their teams."""
    latest = (select(Response.customer_id, func.max(Response.submitted_at).label("at"))
              .where(Response.completed.is_(True), Response.customer_id.is_not(None))
              .group_by(Response.customer_id).subquery())
    bad = or_(Response.nps <= nps_max, and_(Response.nps.is_(None), Response.grade <= grade_max))
    reached = exists().where(CaseEvent.case_id == Case.id, Case.customer_id == Response.customer_id,
                             CaseEvent.direction == "outbound", CaseEvent.occurred_at > Response.submitted_at)
    called = exists().where(FollowUpContact.followup_id == FollowUp.id, FollowUp.customer_id == Response.customer_id,
                            FollowUpContact.at > Response.submitted_at)
    stmt = (
        select(Response.customer_id, Customer.external_id, Customer.segment, Response.id, Response.submitted_at, Response.nps,
               Response.grade, Response.team_id, Response.case_id)
        .join(latest, and_(latest.c.customer_id == Response.customer_id, latest.c.at == Response.submitted_at))
        .join(Customer, Customer.id == Response.customer_id)
        .where(Response.completed.is_(True), Response.submitted_at >= since, Response.submitted_at < until,
               bad, ~reached, ~called)
        .order_by(Response.customer_id, Response.id)
    )
    clause = actor.team_clause(Response.team_id)
    if clause is not None:
        stmt = stmt.where(clause)
    out, seen = [], set()
    for row in session.execute(stmt).all():
        if row[0] in seen:  # two answers in the same second: the first counts
            continue
        seen.add(row[0])
        out.append(tuple(row))
    return out
