"""Personal data in expectation management: the promises, signals and forecasts of one customer's cases
(erasure). Never commits."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepulse.customers import case_ids_of
from servicepulse.models import ForecastSnapshot, Promise, Signal


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the signals, forecasts and promises of the customer's cases."""
    cases = case_ids_of(customer_id)
    removed = 0
    for model in (Signal, ForecastSnapshot, Promise):
        removed += int(session.execute(delete(model).where(model.case_id.in_(cases))
                                       .execution_options(synchronize_session=False)).rowcount or 0)
    return removed
