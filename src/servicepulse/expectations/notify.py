"""Telling people about a new signal: e-mail to the rule's addresses, and a signed
webhook to every active endpoint (when the rule asks for it).

Both go through the job queue, one job per signal and recipient, with a dedupe
key so that a signal is announced once. The webhook reuses the response
webhook's signing scheme and headers (`notify.webhooks.post_signed`), so one
receiver can verify both; only the event name (``signal.raised``) differs.

A rule that asks for webhooks also reaches the teams' chat: every active Slack or
Teams channel (the notification channels of follow-ups, read here, never written)
that is for every team or for the signal's team gets one message in the
organisation's language (SERVICEPULSE_LANGUAGE), built by `notify.chat`, with a
link to the case's expectations page, where the signal is seen and resolved.
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.registry import JobContext
from servicepulse.models import Case, OrgUnit
from servicepulse.models.expectations import Signal, SignalRule
from servicepulse.models.followups import NotificationChannel
from servicepulse.models.responses import WebhookEndpoint
from servicepulse.notify.chat import CHAT_KINDS, ChatMessage, chat_payload
from servicepulse.notify.mail import SmtpConfig, send_or_retry
from servicepulse.notify.webhooks import post_signed
from servicepulse.settings import get_settings

MAIL_JOB = "expectations.signal_mail"
WEBHOOK_JOB = "expectations.signal_webhook"
CHAT_JOB = "expectations.signal_chat"
EVENT = "signal.raised"
# As the response webhooks: with the queue's backoff (30 s doubling) the last try is about an hour after the first.
WEBHOOK_MAX_ATTEMPTS = 8

# Mail text in both product languages: a team list may hold either.
RULE_TITLES = {
    "dark_too_long": ("Te lange stilte naar de klant", "Customer left in silence too long"),
    "promise_due_soon": ("Toezegging verloopt binnenkort", "Promise due soon"),
    "reopened": ("Zaak heropend", "Case reopened"),
    "repeat_contact": ("Klant nam twee keer contact op binnen een dag", "Customer contacted us twice within a day"),
    "forecast_after_promise": ("Verwachte oplossing ligt na de toezegging", "Forecast resolution after the promise"),
}


def enqueue_notifications(session: Session, signals: list[Signal], rules: dict[int, SignalRule],
                          now: datetime) -> int:
    endpoints = chats = None
    queued = 0
    for signal in signals:
        rule = rules[signal.rule_id]
        for address in rule.notify_emails or []:
            enqueue(session, MAIL_JOB, {"signal_id": signal.id, "to": address}, run_at=now,
                    dedupe_key=f"signal-mail:{signal.id}:{address}", max_attempts=6)
            queued += 1
        if rule.notify_webhooks:
            if endpoints is None:
                endpoints = list(session.scalars(select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))))
                chats = session.execute(select(NotificationChannel.id, NotificationChannel.team_id)
                                        .where(NotificationChannel.active.is_(True),
                                               NotificationChannel.kind.in_(CHAT_KINDS))).all()
            for endpoint_id in endpoints:
                enqueue(session, WEBHOOK_JOB, {"signal_id": signal.id, "endpoint_id": endpoint_id}, run_at=now,
                        dedupe_key=f"signal-webhook:{endpoint_id}:{signal.id}", max_attempts=WEBHOOK_MAX_ATTEMPTS)
                queued += 1
            for channel_id, team_id in chats:
                if team_id is None or team_id == signal.team_id:
                    enqueue(session, CHAT_JOB, {"signal_id": signal.id, "channel_id": channel_id}, run_at=now,
                            dedupe_key=f"signal-chat:{channel_id}:{signal.id}", max_attempts=WEBHOOK_MAX_ATTEMPTS)
                    queued += 1
    return queued


def signal_resource(session: Session, signal: Signal) -> dict:
    rule = session.get(SignalRule, signal.rule_id)
    case = session.get(Case, signal.case_id)
    return {"id": signal.id, "rule": rule.key if rule else None, "kind": rule.kind if rule else None,
            "case": case.external_id if case else None, "team_id": signal.team_id, "promise_id": signal.promise_id,
            "cause": signal.cause_key, "fired_at": signal.fired_at.isoformat(), "details": signal.details or {}}


DETAIL_NAMES = {"since": ("laatste bericht", "last news"), "hours": ("uren stilte", "hours of silence"),
                "at": ("om", "at"), "activity": ("stap", "step"), "due_at": ("toegezegd voor", "promised by"),
                "kind": ("soort", "kind")}


def mail_details(details: dict, language: str, zone: ZoneInfo) -> str:
    """A signal's details as lines a person reads: times on the organisation's wall clock, Dutch decimal commas."""
    lines = []
    for key, value in details.items():
        name = DETAIL_NAMES.get(key, (key, key))[0 if language == "nl" else 1]
        if isinstance(value, str) and value.endswith("Z") and "T" in value:
            with suppress(ValueError):
                value = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone).strftime(
                    "%d-%m-%Y %H:%M" if language == "nl" else "%d %b %Y %H:%M")
        elif isinstance(value, float):
            value = f"{value:.1f}".replace(".", "," if language == "nl" else ".")
        lines.append(f"  {name}: {value}")
    return "\n".join(lines)


def send_signal_mail(session: Session, payload: dict, ctx: JobContext) -> None:
    signal = session.get(Signal, payload["signal_id"])
    if signal is None:
        return
    resource = signal_resource(session, signal)
    nl, en = RULE_TITLES.get(resource["kind"], (resource["rule"], resource["rule"]))
    settings = get_settings()
    message = EmailMessage()
    message["To"] = payload["to"]
    message["Subject"] = f"[{settings.organisation_name}] {nl} / {en}: {resource['case']}"
    link = f"{settings.base_url.rstrip('/')}/expectations"
    zone = settings.zone()
    details = {k: v for k, v in resource["details"].items() if k != "rule"}
    message.set_content(f"{nl} - dossier {resource['case']}\n{mail_details(details, 'nl', zone)}\n\n"
                        f"{en} - case {resource['case']}\n{mail_details(details, 'en', zone)}\n\n{link}\n")
    send_or_retry(message, SmtpConfig.from_settings(settings))


def deliver_signal_webhook(session: Session, payload: dict, ctx: JobContext) -> None:
    # As the response webhook: read on a separate read-only unit, POST without holding the write lock.
    with UnitOfWork(ctx.engine, readonly=True) as reader:
        endpoint = reader.get(WebhookEndpoint, payload["endpoint_id"])
        signal = reader.get(Signal, payload["signal_id"])
        if endpoint is None or not endpoint.active or signal is None:
            return
        resource = signal_resource(reader, signal)
        url, secret = endpoint.url, endpoint.secret
    body = json.dumps({"event": EVENT, "signal": resource}, separators=(",", ":"), ensure_ascii=False).encode()
    post_signed(url, body, event=EVENT, secret=secret,
                delivery=f"signal-{payload['endpoint_id']}-{payload['signal_id']}")


_CHAT_WORDS = {"case": ("Dossier", "Case"), "team": ("Team", "Team"), "open": ("Dossier openen", "Open the case")}


def signal_chat_message(resource: dict, team: str | None, language: str, base_url: str, zone: ZoneInfo) -> ChatMessage:
    """A signal for a team's chat channel, in one language, linking to the case's expectations page."""
    pick = 0 if language == "nl" else 1
    title = RULE_TITLES.get(resource["kind"], (resource["rule"], resource["rule"]))[pick]
    details = {k: v for k, v in resource["details"].items() if k != "rule"}
    lines = [f"{_CHAT_WORDS['case'][pick]}: {resource['case']}", f"{_CHAT_WORDS['team'][pick]}: {team or '-'}"]
    lines += [line.strip() for line in mail_details(details, language, zone).splitlines() if line.strip()]
    link = f"{base_url.rstrip('/')}/expectations/cases/{quote(str(resource['case']), safe='')}"
    return ChatMessage(title=title, lines=lines, link=link, link_label=_CHAT_WORDS["open"][pick])


def deliver_signal_chat(session: Session, payload: dict, ctx: JobContext) -> None:
    # As the webhook: read on a separate read-only unit, POST without holding the write lock.
    settings = get_settings()
    with UnitOfWork(ctx.engine, readonly=True) as reader:
        channel = reader.get(NotificationChannel, payload["channel_id"])
        signal = reader.get(Signal, payload["signal_id"])
        if channel is None or not channel.active or channel.kind not in CHAT_KINDS or signal is None:
            return
        resource = signal_resource(reader, signal)
        team = reader.get(OrgUnit, signal.team_id) if signal.team_id else None
        message = signal_chat_message(resource, team.name if team else None, settings.language, settings.base_url,
                                      settings.zone())
        kind, url, secret, name = channel.kind, channel.target, channel.secret, channel.name
    body = json.dumps(chat_payload(kind, message), separators=(",", ":"), ensure_ascii=False).encode()
    # a deleted Slack/Teams webhook answers 404 and stays deleted
    post_signed(url, body, event=EVENT, secret=secret, delivery=f"signal-chat-{payload['channel_id']}-{payload['signal_id']}",
                label=f"channel {name}", gone_statuses=(404, 410))
