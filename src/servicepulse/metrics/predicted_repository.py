"""Queries of the predicted experience: the closed cases with their facts, the answers given about them,
and a cheap fingerprint of everything the prediction reads (servicepulse.metrics.predicted)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from servicepulse.metrics.repository import case_driver_frame
from servicepulse.models import Case, Customer, Promise, Response
from servicepulse.models.cases import CaseFacts

# Counts and hours of the case record besides the 0/1 drivers: how much of each happened (log1p-scaled).
AMOUNT_FACTS = (
    "throughput_days", "dark_period_hours", "inbound_contacts", "repeat_contacts", "handoffs", "reopenings",
    "waiting_on_us_hours", "channel_switches", "after_hours_contacts",
)


def closed_cases(session: Session) -> pd.DataFrame:
    """Every closed case (index ``case_id``): ``journey_id``, ``customer_id``, ``team_id``, ``closed_at``."""
    rows = session.execute(
        select(Case.id, Case.journey_id, Case.customer_id, Case.last_team_id,
               func.coalesce(Case.closed_at, CaseFacts.ended_at))
        .outerjoin(CaseFacts, CaseFacts.case_id == Case.id)
        .where(or_(Case.closed_at.is_not(None), CaseFacts.closed.is_(True)))
        .order_by(Case.id)).all()
    frame = pd.DataFrame(rows, columns=["case_id", "journey_id", "customer_id", "team_id", "closed_at"])
    frame = frame.set_index("case_id")
    frame.index = frame.index.astype("int64")
    return frame


def case_features(session: Session, case_ids: list[int]) -> pd.DataFrame:
    """The 0/1 case drivers of the key-driver analysis and the amounts of ``AMOUNT_FACTS`` per case (index
    ``case_id``); cases without events (no facts) are left out."""
    drivers = case_driver_frame(session, case_ids)
    amounts = []
    ids = [int(i) for i in case_ids]
    for start in range(0, len(ids), 5000):
        amounts.append(pd.DataFrame(session.execute(
            select(CaseFacts.case_id, *[getattr(CaseFacts, c) for c in AMOUNT_FACTS])
            .where(CaseFacts.case_id.in_(ids[start:start + 5000]))).all(), columns=["case_id", *AMOUNT_FACTS]))
    amount = (pd.concat(amounts) if amounts else pd.DataFrame(columns=["case_id", *AMOUNT_FACTS])).set_index("case_id")
    amount.index = amount.index.astype("int64")
    # cases whose facts were computed on the fly (no stored row) have drivers but no amounts: zeros, as the
    # drivers of those cases say nothing happened beyond them
    return drivers.join(amount.astype(float), how="left").fillna(0.0)


def answers(session: Session) -> pd.DataFrame:
    """Sent answers about a case (index ``response_id``): ``case_id``, ``customer_id``, ``nps``, ``grade``,
    ``submitted_at``."""
    rows = session.execute(
        select(Response.id, Response.case_id, Response.customer_id, Response.nps, Response.grade,
               Response.submitted_at)
        .where(Response.case_id.is_not(None), Response.completed.is_(True),
               or_(Response.nps.is_not(None), Response.grade.is_not(None)))
        .order_by(Response.id)).all()
    frame = pd.DataFrame(rows, columns=["response_id", "case_id", "customer_id", "nps", "grade", "submitted_at"])
    frame = frame.set_index("response_id")
    frame["case_id"] = frame["case_id"].astype("int64")
    return frame


def last_answer(session: Session, customer_ids: list[int], since: datetime) -> dict[int, datetime]:
    """When each of these customers last sent an answer, for those who sent one at or after ``since``."""
    out: dict[int, datetime] = {}
    ids = sorted({int(i) for i in customer_ids})
    for start in range(0, len(ids), 5000):
        out.update(session.execute(select(Response.customer_id, func.max(Response.submitted_at)).where(
            Response.customer_id.in_(ids[start:start + 5000]), Response.submitted_at >= since)
            .group_by(Response.customer_id)).all())
    return out


def fingerprint(session: Session) -> tuple:
    """Changes whenever an answer, a case, its facts or a promise changes (a cache key for the fitted model)."""
    responses = session.execute(select(func.count(), func.max(Response.id), func.max(Response.submitted_at))
                                .where(Response.completed.is_(True))).one()
    cases = session.execute(select(func.count(), func.max(Case.id), func.max(Case.closed_at))).one()
    facts = session.execute(select(func.count(), func.max(CaseFacts.updated_at))).one()
    promises = session.execute(select(func.count(), func.max(Promise.broken_at))
                               .where(Promise.status == "broken")).one()
    return tuple(str(v) for v in (*responses, *cases, *facts, *promises))


def customers_in_segment(session: Session, segment: str) -> set[int]:
    """The ids of the customers in ``segment``: read per request, so a changed segment shows at once although
    the fitted predictions are kept."""
    return set(session.scalars(select(Customer.id).where(Customer.segment == segment)))
