"""Job handlers: rule matching, decisions, sending invitations (e-mail, SMS, WhatsApp), the reminder and expiry.

Listed by kind in servicepulse/registry.py JOB_HANDLERS, so that a worker knows them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from servicepulse.invitations import decisions, service, texting
from servicepulse.jobs import JobContext, RetryLater, enqueue
from servicepulse.models import Case, Customer, Invitation
from servicepulse.models.invitations import TriggerDecision, TriggerRule
from servicepulse.notify.mail import MailNotSent, SmtpConfig
from servicepulse.notify.messaging import MessageNotSent
from servicepulse.settings import get_settings

log = logging.getLogger(__name__)


def match(session, payload: dict, ctx: JobContext) -> None:
    decisions.match_cases(session, [int(i) for i in payload.get("case_ids", [])], ctx.now)


def decide(session, payload: dict, ctx: JobContext) -> None:
    rule = session.get(TriggerRule, payload["rule_id"])
    case = session.get(Case, payload["case_id"])
    if rule is None or not rule.active or case is None:
        return  # rule switched off or removed, or case deleted, during the delay
    already = session.scalar(select(TriggerDecision.id).where(TriggerDecision.rule_id == rule.id,
                                                              TriggerDecision.case_id == case.id))
    if already is not None:
        return
    decision = decisions.decide(session, rule, case, payload.get("event_id"), ctx.now)
    if decision.reason != "invited":
        return
    customer = session.get(Customer, case.customer_id)
    channel, _ = texting.channel_for(session, customer, ctx.now)
    invitation = service.create_invitation(session, rule.survey_id, customer, ctx.now, case_id=case.id,
                                           expires_days=rule.expires_days, channel=channel or "email")
    decision.invitation_id = invitation.id
    enqueue(session, "invitations.send",
            {"invitation_id": invitation.id, "reminder_after_days": rule.reminder_after_days},
            run_at=ctx.now, dedupe_key=f"send:{invitation.id}")


def _mail_context():
    settings = get_settings()
    return SmtpConfig.from_settings(settings), settings.base_url, settings.organisation_name


def send(session, payload: dict, ctx: JobContext) -> None:
    invitation = session.get(Invitation, payload["invitation_id"])
    if invitation is None:
        return
    if invitation.channel in texting.TEXT_CHANNELS:
        sent = _send_text(session, invitation, "invitation", ctx)
    else:
        sent = _send_mail(session, invitation, ctx)
    if sent is not None:  # nothing else marks an unanswered invitation expired (the dashboard counts statuses)
        enqueue(session, "invitations.expire", {}, run_at=invitation.expires_at,
                dedupe_key=f"expire:{invitation.id}")
    days = payload.get("reminder_after_days")
    if sent is not None and days:
        enqueue(session, "invitations.remind", {"invitation_id": invitation.id},
                run_at=ctx.now + timedelta(days=days), dedupe_key=f"remind:{invitation.id}")


def _send_mail(session, invitation: Invitation, ctx: JobContext):
    smtp, base_url, organisation = _mail_context()
    try:
        with session.begin_nested():  # a failed send leaves the invitation as it was
            return service.send_invitation(session, invitation, ctx.now, smtp, base_url, organisation)
    except MailNotSent as exc:
        if exc.permanent or ctx.last_attempt:
            log.warning("invitation %s not sent, giving up: %s", invitation.id, exc)
            invitation.status = "failed"
            return None
        raise


def _send_text(session, invitation: Invitation, kind: str, ctx: JobContext):
    """SMS or WhatsApp: a refusal that a retry cannot mend fails the invitation (a reminder is just not
    sent); a STOP the provider knows of is recorded as the customer's STOP on that channel."""
    try:
        with session.begin_nested():
            return texting.send_text(session, invitation, kind, ctx.now)
    except MessageNotSent as exc:  # its text holds no phone number (notify.messaging.scrub)
        if exc.opted_out:
            texting.set_channel_stopped(session, invitation.customer_id, invitation.channel, True, ctx.now)
        if exc.permanent or ctx.last_attempt:
            log.warning("%s for invitation %s not sent by %s, giving up: %s", kind, invitation.id,
                        invitation.channel, exc)
            if kind == "invitation":
                invitation.status = "cancelled" if exc.opted_out else "failed"
            return None
        raise RetryLater(str(exc), delay_seconds=exc.retry_after) from None


def remind(session, payload: dict, ctx: JobContext) -> None:
    invitation = session.get(Invitation, payload["invitation_id"])
    if invitation is None:
        return
    if invitation.channel in texting.TEXT_CHANNELS:
        _send_text(session, invitation, "reminder", ctx)
        return
    smtp, base_url, organisation = _mail_context()
    try:
        with session.begin_nested():
            service.send_reminder(session, invitation, ctx.now, smtp, base_url, organisation)
    except MailNotSent as exc:
        if exc.permanent or ctx.last_attempt:
            log.warning("reminder for invitation %s not sent, giving up: %s", invitation.id, exc)
            return
        raise


def expire(session, payload: dict, ctx: JobContext) -> None:
    # A sweep rather than one invitation: it also catches any sent before this job existed.
    marked = service.expire_overdue(session, ctx.now)
    if marked:
        log.info("marked %d invitation(s) expired", marked)
