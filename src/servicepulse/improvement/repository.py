"""The scan's one query outside its own tables: where the overall score stands now (it bounds every lift)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.metrics import MetricFilter
from servicepulse.models import Customer, Response
from servicepulse.responses import day_start

OUTCOME_COLUMNS = {"nps": Response.nps, "grade": Response.grade}


def outcome_mean(session: Session, outcome: str, f: MetricFilter = MetricFilter()) -> tuple[float | None, int]:
    """(mean, n) of the outcome over the submitted responses of the filter's channel, team, segment and dates.

    Journey and moment are left out on purpose: the scan runs over every journey at once.
    """
    column = OUTCOME_COLUMNS[outcome]
    stmt = select(func.avg(column), func.count(column)).where(Response.completed.is_(True), column.is_not(None))
    if f.channel is not None:
        stmt = stmt.where(Response.channel == f.channel)
    if f.team_id is not None:
        stmt = stmt.where(Response.team_id == f.team_id)
    if f.segment is not None:
        stmt = stmt.join(Customer, Customer.id == Response.customer_id).where(Customer.segment == f.segment)
    if f.date_from is not None:
        stmt = stmt.where(Response.submitted_at >= day_start(f.date_from))
    if f.date_to is not None:
        stmt = stmt.where(Response.submitted_at < day_start(f.date_to))
    mean, n = session.execute(stmt).one()
    return (None if mean is None else float(mean)), int(n or 0)
