"""Invitations: create, send (with the e-mail), remind once, resolve a link, opt out, expire. Never commits.

The token in an e-mail exists only in that e-mail: the database keeps its
SHA-256 hash. It is therefore made at the moment of sending, and the reminder
carries a token of its own (an InvitationToken row); both open the same
invitation until it expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ServicepulseError
from servicepulse.invitations import mail
from servicepulse.invitations.tokens import hash_token, looks_like_token, new_token
from servicepulse.models import Customer, Invitation, Response, Survey, SurveyVersion
from servicepulse.models.invitations import InvitationToken
from servicepulse.notify.mail import SmtpConfig, send_message

LANGUAGES = ("nl", "en")


class LinkUnknown(NotFound):
    """No invitation has this token (mistyped, or never existed)."""


class LinkExpired(ServicepulseError):
    """The invitation's link is past its expiry date or was withdrawn."""

    def __init__(self, message: str, invitation: Invitation):
        super().__init__(message)
        self.invitation = invitation


@dataclass(frozen=True)
class Sent:
    invitation: Invitation
    token: str
    url: str


def latest_version(session: Session, survey_id: int) -> SurveyVersion:
    version = session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey_id)
                             .order_by(SurveyVersion.version.desc()).limit(1))
    if version is None:
        raise NotFound(f"survey {survey_id} has no version")
    return version


def invitation_language(customer: Customer, version: SurveyVersion) -> str:
    offered = [lang for lang in version.definition.get("languages", LANGUAGES) if lang in LANGUAGES] or ["nl"]
    return customer.language if customer.language in offered else offered[0]


def create_invitation(session: Session, survey_id: int, customer: Customer, now: datetime,
                      case_id: int | None = None, expires_days: int = 14, channel: str = "email") -> Invitation:
    """A scheduled invitation to the survey's newest version; `send_invitation` e-mails it, or
    `texting.send_text` sends it by SMS or WhatsApp (`channel`)."""
    version = latest_version(session, survey_id)
    invitation = Invitation(
        # Placeholder hash of a token nobody ever sees; the real one is made when sending.
        token_hash=hash_token(new_token()),
        survey_version_id=version.id, customer_id=customer.id, case_id=case_id, channel=channel,
        language=invitation_language(customer, version), status="scheduled", created_at=now,
        scheduled_at=now, expires_at=now + timedelta(days=expires_days),
    )
    session.add(invitation)
    session.flush()
    return invitation


def mark_responded(invitation: Invitation, now: datetime) -> None:
    """The customer completed the survey (the first completion keeps its moment)."""
    invitation.status = "responded"
    invitation.responded_at = invitation.responded_at or now


def survey_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/{token}"


def send_invitation(session: Session, invitation: Invitation, now: datetime, smtp: SmtpConfig, base_url: str,
                    organisation: str) -> Sent | None:
    """E-mail a scheduled invitation. Returns None (and sends nothing) when it should not go out.

    The mail is sent before the caller commits: if sending fails the
    transaction rolls back and the job retries with a fresh token.
    """
    if invitation.status != "scheduled":
        return None
    customer = session.get(Customer, invitation.customer_id)
    if customer is None or customer.opted_out_at is not None:
        invitation.status = "cancelled"
        return None
    if not (customer.email or "").strip():
        invitation.status = "failed"
        return None
    token = new_token()
    validity = invitation.expires_at - invitation.scheduled_at
    invitation.token_hash = hash_token(token)
    invitation.status = "sent"
    invitation.sent_at = now
    invitation.expires_at = now + validity
    session.flush()
    url = survey_url(base_url, token)
    message = mail.compose(kind="invitation", to=customer.email, name=customer.name, language=invitation.language,
                           survey=_survey_definition(session, invitation), url=url,
                           expires_at=invitation.expires_at, organisation=organisation)
    send_message(message, smtp)
    return Sent(invitation, token, url)


def send_reminder(session: Session, invitation: Invitation, now: datetime, smtp: SmtpConfig, base_url: str,
                  organisation: str) -> Sent | None:
    """The one reminder, only to customers who have not finished, before expiry, not after opt-out."""
    if invitation.status != "sent" or invitation.reminder_sent_at is not None or now >= invitation.expires_at:
        return None
    completed = session.scalar(select(Response.id).where(Response.invitation_id == invitation.id,
                                                         Response.completed.is_(True)))
    customer = session.get(Customer, invitation.customer_id)
    if completed is not None or customer is None or customer.opted_out_at is not None or not customer.email:
        return None
    token = new_token()
    session.add(InvitationToken(invitation_id=invitation.id, token_hash=hash_token(token), purpose="reminder",
                                issued_at=now))
    invitation.reminder_sent_at = now
    session.flush()
    url = survey_url(base_url, token)
    message = mail.compose(kind="reminder", to=customer.email, name=customer.name, language=invitation.language,
                           survey=_survey_definition(session, invitation), url=url,
                           expires_at=invitation.expires_at, organisation=organisation)
    send_message(message, smtp)
    return Sent(invitation, token, url)


def _survey_definition(session: Session, invitation: Invitation) -> dict:
    return session.get(SurveyVersion, invitation.survey_version_id).definition


def find_by_token(session: Session, token: str) -> Invitation | None:
    if not looks_like_token(token):
        return None
    digest = hash_token(token)
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == digest))
    if invitation is None:
        invitation_id = session.scalar(select(InvitationToken.invitation_id).where(InvitationToken.token_hash == digest))
        invitation = session.get(Invitation, invitation_id) if invitation_id else None
    if invitation is not None and invitation.status in ("scheduled",):
        return None  # a placeholder hash never matches a real link, but be explicit
    return invitation


def resolve(session: Session, token: str, now: datetime) -> Invitation:
    """The invitation a link opens, or LinkUnknown / LinkExpired."""
    invitation = find_by_token(session, token)
    if invitation is None:
        raise LinkUnknown("this survey link does not exist")
    if invitation.status in ("cancelled", "expired", "failed") or now >= invitation.expires_at:
        raise LinkExpired("this survey link has expired", invitation)
    return invitation


def opt_out(session: Session, invitation: Invitation, now: datetime) -> Customer:
    """The customer wants no more surveys: recorded on the customer; open invitations are withdrawn."""
    customer = session.get(Customer, invitation.customer_id)
    if customer.opted_out_at is None:
        customer.opted_out_at = now
    for other in session.scalars(select(Invitation).where(Invitation.customer_id == customer.id,
                                                          Invitation.status == "scheduled")):
        other.status = "cancelled"
    return customer


def survey_of(session: Session, invitation: Invitation) -> tuple[Survey, SurveyVersion]:
    version = session.get(SurveyVersion, invitation.survey_version_id)
    return session.get(Survey, version.survey_id), version


def expire_overdue(session: Session, now: datetime) -> int:
    """Mark sent invitations whose link has expired (``now >= expires_at``, as in `resolve`) as 'expired'.

    An invitation with a completed response is left alone: it was answered,
    whatever its status says. Returns how many were marked. Run by the
    'invitations.expire' job, which sending schedules at each expiry time.
    """
    answered = exists().where(Response.invitation_id == Invitation.id, Response.completed.is_(True))
    result = session.execute(
        update(Invitation).where(Invitation.status == "sent", Invitation.expires_at <= now, ~answered)
        .values(status="expired").execution_options(synchronize_session="fetch"))
    return result.rowcount
