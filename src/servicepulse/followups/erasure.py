"""Personal data in the closed loop: one customer's follow-ups with their contact notes, gestures and
re-surveys (erasure), and old contact notes (retention). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from servicepulse.customers import case_ids_of, response_ids_of
from servicepulse.models import FollowUp, FollowUpContact, FollowUpReason, Gesture, Resurvey


def _followups_of(customer_id: int):
    responses, cases = response_ids_of(customer_id), case_ids_of(customer_id)
    with_reason = select(FollowUpReason.followup_id).where(or_(FollowUpReason.response_id.in_(responses),
                                                               FollowUpReason.case_id.in_(cases)))
    return select(FollowUp.id).where(or_(FollowUp.customer_id == customer_id,
                                         FollowUp.response_id.in_(responses),
                                         FollowUp.case_id.in_(cases),
                                         FollowUp.id.in_(with_reason)))


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the customer's follow-ups (theirs, or on their responses or cases, or with a reason from one)
    with their reasons, contact notes, gestures and re-survey requests. Call before responses and cases are erased."""
    ids = list(session.scalars(_followups_of(customer_id)))
    removed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for model in (FollowUpReason, FollowUpContact, Gesture, Resurvey):
            removed += int(session.execute(delete(model).where(model.followup_id.in_(chunk))
                                           .execution_options(synchronize_session=False)).rowcount or 0)
        removed += int(session.execute(delete(FollowUp).where(FollowUp.id.in_(chunk))
                                       .execution_options(synchronize_session=False)).rowcount or 0)
    return removed


def purge_contact_notes_before(session: Session, cutoff: datetime) -> int:
    """Blank the notes of contacts and gestures logged before ``cutoff`` (the contact, its time and outcome,
    and the gesture's amount stay for the figures); returns the notes blanked."""
    removed = int(session.execute(update(FollowUpContact).where(FollowUpContact.at < cutoff, FollowUpContact.note != "")
                                  .values(note="").execution_options(synchronize_session=False)).rowcount or 0)
    removed += int(session.execute(update(Gesture).where(Gesture.at < cutoff, Gesture.note != "")
                                   .values(note="").execution_options(synchronize_session=False)).rowcount or 0)
    return removed
