"""Sending one digest: read and render on a read-only unit of work (the PDF takes a while; no write lock is
held meanwhile), send over SMTP, then record it in the ledger in the caller's unit of work.

The send job runs once per subscription, recipient and period (its dedupe key), and the ledger's unique
key refuses a second record; a recipient who unsubscribed, was deactivated or may no longer see the scope
by the time the job runs gets nothing.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicepulse.db.session import UnitOfWork
from servicepulse.digests.periods import period_containing
from servicepulse.digests.report import digest_content, digest_message
from servicepulse.digests.service import ORGANISATION_ROLES, already_sent, may_see, recipients, teams
from servicepulse.digests.tokens import make_token
from servicepulse.models import User
from servicepulse.models.digests import DigestSend, DigestSubscription
from servicepulse.notify.mail import SmtpConfig, send_or_retry
from servicepulse.org import Actor
from servicepulse.settings import Settings, get_settings


def unsubscribe_url(settings: Settings, subscription_id: int, user_id: int) -> str:
    token = make_token(settings.resolved_secret_key(), subscription_id, user_id)
    return f"{settings.base_url.rstrip('/')}/s/{token}/unsubscribe"


def compose(reader: Session, payload: dict, now: datetime, settings: Settings, *, check_ledger: bool = True):
    """(message, reason): the mail to send, or None and why not."""
    sub = reader.get(DigestSubscription, payload["subscription_id"])
    if sub is None:
        return None, "unsubscribed"
    user = reader.get(User, payload["user_id"])
    if user is None or user.id not in {u.id for u in recipients(reader, sub)}:
        return None, "not a recipient"
    period = period_containing(sub.frequency, date.fromisoformat(payload["period_start"]))
    if check_ledger and already_sent(reader, sub.id, user.id, period):
        return None, "already sent"
    actor = Actor.of(user)
    if not may_see(actor, sub.team_id):  # a role or team changed since subscribing
        return None, "may not see it"
    language = user.language if user.language in ("nl", "en") else "nl"
    content = digest_content(reader, period, sub.team_id, teams(reader).get(sub.team_id), language=language,
                             min_n=settings.min_n, today=now.date())
    message = digest_message(reader, content, to=user.email, language=language,
                             organisation=settings.organisation_name, recipient=user.name,
                             base_url=settings.base_url, unsubscribe_url=unsubscribe_url(settings, sub.id, user.id),
                             with_pdf=actor.role in ORGANISATION_ROLES, sender=settings.smtp_sender,
                             min_n=settings.min_n)
    return message, "sent"


def send_digest(engine: Engine, session: Session, payload: dict, now: datetime, *, record: bool = True,
                settings: Settings | None = None) -> str:
    """Send the digest ``payload`` names; returns 'sent' or why nothing was sent. With ``record`` (always,
    but for the CLI's --again) the ledger row is written in ``session``."""
    settings = settings or get_settings()
    with UnitOfWork(engine, readonly=True) as reader:
        message, reason = compose(reader, payload, now, settings, check_ledger=record)
    if message is None:
        return reason
    send_or_retry(message, SmtpConfig.from_settings(settings))
    if record:
        session.add(DigestSend(subscription_id=payload["subscription_id"], user_id=payload["user_id"],
                               period_start=date.fromisoformat(payload["period_start"]), sent_at=now))
        session.flush()
    return reason
