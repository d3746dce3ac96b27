"""Job handlers: rule matching, decisions, sending invitations, the reminder and expiry.

Listed by kind in servicepulse/registry.py JOB_HANDLERS, so that a worker knows them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from servicepulse.invitations import decisions, service
from servicepulse.jobs import JobContext, enqueue
from servicepulse.models import Case, Customer, Invitation
from servicepulse.models.invitations import TriggerDecision, TriggerRule
from servicepulse.notify.mail import MailNotSent, SmtpConfig
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
    invitation = service.create_invitation(session, rule.survey_id, customer, ctx.now, case_id=case.id,
                                           expires_days=rule.expires_days)
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
    smtp, base_url, organisation = _mail_context()
    try:
        with session.begin_nested():  # a failed send leaves the invitation as it was
            sent = service.send_invitation(session, invitation, ctx.now, smtp, base_url, organisation)
    except MailNotSent as exc:
        if exc.permanent or ctx.last_attempt:
            log.warning("invitation %s not sent, giving up: %s", invitation.id, exc)
            invitation.status = "failed"
            return
        raise
    if sent is not None:  # nothing else marks an unanswered invitation expired (the dashboard counts statuses)
        enqueue(session, "invitations.expire", {}, run_at=invitation.expires_at,
                dedupe_key=f"expire:{invitation.id}")
    days = payload.get("reminder_after_days")
    if sent is not None and days:
        enqueue(session, "invitations.remind", {"invitation_id": invitation.id},
                run_at=ctx.now + timedelta(days=days), dedupe_key=f"remind:{invitation.id}")


def remind(session, payload: dict, ctx: JobContext) -> None:
    invitation = session.get(Invitation, payload["invitation_id"])
    if invitation is None:
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
