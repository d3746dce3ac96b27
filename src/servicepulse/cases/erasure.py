"""Personal data in cases: one customer's cases with their events and facts (erasure), and old events
(retention). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepulse.customers import case_ids_of
from servicepulse.models import Case, CaseEvent, CaseFacts


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the customer's cases, their events (actors, free attributes) and case facts. Call after the
    domains whose rows hang on these cases (invitations, responses, expectations, follow-ups)."""
    cases = case_ids_of(customer_id)
    removed = int(session.execute(delete(CaseFacts).where(CaseFacts.case_id.in_(cases))).rowcount or 0)
    removed += int(session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(cases))
                                   .execution_options(synchronize_session=False)).rowcount or 0)
    removed += int(session.execute(delete(Case).where(Case.customer_id == customer_id)
                                   .execution_options(synchronize_session=False)).rowcount or 0)
    return removed


def purge_events_before(session: Session, cutoff: datetime) -> int:
    """Delete case events that happened before ``cutoff``; returns how many. Cases and their facts stay."""
    return int(session.execute(delete(CaseEvent).where(CaseEvent.occurred_at < cutoff)
                               .execution_options(synchronize_session=False)).rowcount or 0)
