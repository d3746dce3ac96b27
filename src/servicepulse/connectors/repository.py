"""The one query of the connectors: which of a delivery's events are stored already (cases own the table)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.models import CaseEvent


def stored_event_ids(session: Session, external_ids: list[str]) -> set[str]:
    if not external_ids:
        return set()
    return set(session.scalars(select(CaseEvent.external_id).where(CaseEvent.external_id.in_(external_ids))))
