"""Personal data in invitations: one customer's invitations, tokens and trigger decisions (erasure), and
old invitations (retention). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from servicepulse.customers import case_ids_of, invitation_ids_of, response_ids_of
from servicepulse.models import (
    AnonymousSubmission,
    ContactPreference,
    Invitation,
    InvitationToken,
    TextMessage,
    TriggerDecision,
)

FINISHED = ("responded", "expired", "cancelled", "failed")


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the customer's invitations with their tokens and text messages (SMS/WhatsApp delivery records),
    their contact preferences (preferred channel, STOPs), the trigger decisions about them or their cases,
    and anonymous submissions linked to their responses. Their phone number goes with the customer row."""
    invitations = invitation_ids_of(customer_id)
    removed = int(session.execute(delete(AnonymousSubmission).where(
        AnonymousSubmission.response_id.in_(response_ids_of(customer_id)))).rowcount or 0)
    removed += int(session.execute(delete(TriggerDecision).where(or_(
        TriggerDecision.customer_id == customer_id, TriggerDecision.case_id.in_(case_ids_of(customer_id)),
        TriggerDecision.invitation_id.in_(invitations)))).rowcount or 0)
    removed += int(session.execute(delete(InvitationToken).where(InvitationToken.invitation_id.in_(invitations)))
                   .rowcount or 0)
    removed += int(session.execute(delete(TextMessage).where(TextMessage.invitation_id.in_(invitations)))
                   .rowcount or 0)
    removed += int(session.execute(delete(ContactPreference).where(ContactPreference.customer_id == customer_id))
                   .rowcount or 0)
    removed += int(session.execute(delete(Invitation).where(Invitation.customer_id == customer_id)
                                   .execution_options(synchronize_session=False)).rowcount or 0)
    return removed


def purge_invitations_before(session: Session, cutoff: datetime) -> int:
    """Delete finished invitations (answered, expired, cancelled, failed) created before ``cutoff``, with their
    tokens and text messages; a response keeps its scores (its invitation link becomes empty). Returns the invitations deleted."""
    old = select(Invitation.id).where(Invitation.created_at < cutoff, Invitation.status.in_(FINISHED))
    session.execute(delete(InvitationToken).where(InvitationToken.invitation_id.in_(old)))
    session.execute(delete(TextMessage).where(TextMessage.invitation_id.in_(old)))
    return int(session.execute(delete(Invitation).where(Invitation.created_at < cutoff,
                                                        Invitation.status.in_(FINISHED))
                               .execution_options(synchronize_session=False)).rowcount or 0)
