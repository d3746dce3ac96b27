"""Announcing new and overdue follow-ups: e-mail and signed webhooks (Slack, Teams or generic JSON).

Every announcement is a job per channel (kind ``followups.notify``), queued in
the transaction that opened or escalated the follow-up, so a channel that is
down never blocks the workflow: the job queue retries it with backoff and
gives up after MAX_ATTEMPTS. Webhook requests are signed exactly like the
response webhook (``servicepulse.notify.webhooks.post_signed``: HMAC-SHA256
over ``<timestamp>.<body>``); Slack and Teams ignore the extra headers. Slack and
Teams bodies are built by ``servicepulse.notify.chat`` (the one place for both), in
the organisation's language (SERVICEPULSE_LANGUAGE) with a link to the follow-up.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.jobs.queue import enqueue_rows_once, job_row
from servicepulse.jobs.registry import JobContext
from servicepulse.models import FollowUp, OrgUnit
from servicepulse.models.followups import CHANNEL_KINDS, NotificationChannel
from servicepulse.notify.chat import CHAT_KINDS, ChatMessage, chat_payload
from servicepulse.notify.mail import SmtpConfig, send_or_retry
from servicepulse.notify.webhooks import post_signed
from servicepulse.settings import get_settings

JOB_KIND = "followups.notify"
MAX_ATTEMPTS = 6
EVENTS = ("new", "merged", "overdue")
_TITLES = {
    "new": ("Nieuwe opvolging", "New follow-up"),
    # a later reason joined an open follow-up: whoever works it should know before (or after) calling
    "merged": ("Nieuwe aanleiding bij opvolging", "New reason on a follow-up"),
    "overdue": ("Opvolging over tijd", "Follow-up overdue"),
}


def add_channel(session: Session, name: str, kind: str, target: str, secret: str | None = None,
                team_id: int | None = None) -> NotificationChannel:
    problems = []
    if not name or len(name) > 100:
        problems.append(("name", "a channel needs a name of 1-100 characters"))
    elif session.scalar(select(NotificationChannel.id).where(NotificationChannel.name == name)):
        problems.append(("name", f"a channel named {name!r} already exists"))
    if kind not in CHANNEL_KINDS:
        problems.append(("kind", f"kind {kind!r} is unknown; choose one of {', '.join(CHANNEL_KINDS)}"))
    elif kind == "email":
        if "@" not in (target or ""):
            problems.append(("target", f"{target!r} is not an e-mail address"))
    else:
        parts = urlsplit(target or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(("target", f"{target!r} is not an http(s) URL"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    channel = NotificationChannel(name=name, kind=kind, target=target, secret=secret, team_id=team_id, active=True)
    session.add(channel)
    session.flush()
    return channel


def remove_channel(session: Session, channel_id: int) -> None:
    channel = session.get(NotificationChannel, channel_id)
    if channel is None:
        raise NotFound(f"there is no notification channel {channel_id}")
    session.delete(channel)
    session.flush()


def announce(session: Session, followup_ids: list[int], event: str, now: datetime,
             extra_emails: dict[int, list[str]] | None = None, occasion: str = "") -> int:
    """Queue one notification job per follow-up and matching channel (and per extra address). ``occasion``
    tells apart announcements of one event that may recur for a follow-up (each merged reason).

    One multi-row INSERT ... ON CONFLICT DO NOTHING on the jobs' dedupe key: escalating thousands of
    follow-ups must not cost a round trip per job, and an announcement is never queued twice."""
    if not followup_ids:
        return 0
    channels = list(session.execute(select(NotificationChannel.id, NotificationChannel.team_id)
                                    .where(NotificationChannel.active.is_(True))))
    extra_emails = extra_emails or {}
    if not channels and not any(extra_emails.values()):
        return 0
    teams = {}
    for start in range(0, len(followup_ids), 500):
        chunk = followup_ids[start:start + 500]
        teams.update(session.execute(select(FollowUp.id, FollowUp.team_id).where(FollowUp.id.in_(chunk))).all())
    rows = []

    def job(payload: dict, key: str) -> dict:
        return job_row(JOB_KIND, payload, now, dedupe_key=key, max_attempts=MAX_ATTEMPTS)

    for fid in followup_ids:
        for channel_id, team_id in channels:
            if team_id is None or team_id == teams.get(fid):
                rows.append(job({"followup_id": fid, "event": event, "channel_id": channel_id},
                                f"fu-notify:{event}{occasion}:{fid}:c{channel_id}"))
        for address in extra_emails.get(fid, []):
            rows.append(job({"followup_id": fid, "event": event, "email": address},
                            f"fu-notify:{event}{occasion}:{fid}:{address}"))
    return enqueue_rows_once(session, rows)


def describe(session: Session, fu: FollowUp, base_url: str) -> dict:
    team = session.get(OrgUnit, fu.team_id) if fu.team_id else None
    return {
        "id": fu.id, "cause": fu.cause, "summary": fu.summary or "", "priority": fu.priority, "status": fu.status,
        "team": team.name if team else None, "due_at": fu.due_at.isoformat(),
        # for people: the organisation's wall clock (SERVICEPULSE_TIME_ZONE), as on the pages
        "due_local": fu.due_at.astimezone(_settings().zone()).strftime("%d-%m-%Y %H:%M"),
        "time_zone": _settings().time_zone,
        "url": f"{base_url.rstrip('/')}/followups/{fu.id}",
    }


def message_text(event: str, info: dict) -> str:
    nl, en = _TITLES[event]
    due = info.get("due_local") or info["due_at"]
    zone = f" ({info['time_zone']})" if info.get("time_zone") else ""
    return (f"{nl} / {en} #{info['id']}: {info['cause']} ({info['summary']}), "
            f"team {info['team'] or '-'}, uiterlijk / due {due}{zone} - {info['url']}")


_CHAT_WORDS = {  # (nl, en)
    "team": ("Team", "Team"), "due": ("Uiterlijk", "Due"), "priority": ("Prioriteit", "Priority"),
    "open": ("Opvolging openen", "Open the follow-up"),
}


def chat_message(event: str, info: dict, language: str) -> ChatMessage:
    """A follow-up announcement for a team's chat channel, in one language, linking to the follow-up."""
    pick = 0 if language == "nl" else 1
    zone = f" ({info['time_zone']})" if info.get("time_zone") else ""
    summary = f" ({info['summary']})" if info.get("summary") else ""
    return ChatMessage(
        title=f"{_TITLES[event][pick]} #{info['id']}",
        lines=[f"{info['cause']}{summary}",
               f"{_CHAT_WORDS['team'][pick]}: {info['team'] or '-'}",
               f"{_CHAT_WORDS['due'][pick]}: {info.get('due_local') or info['due_at']}{zone}"],
        link=info["url"], link_label=_CHAT_WORDS["open"][pick], urgent=event == "overdue")


def payload_for(kind: str, event: str, info: dict, language: str | None = None) -> dict:
    """The JSON body: Slack and Teams as servicepulse.notify.chat builds them (in the organisation's
    language); a generic webhook gets both languages' text and the data."""
    if kind in CHAT_KINDS:
        return chat_payload(kind, chat_message(event, info, language or _settings().language))
    return {"event": f"followup.{event}", "text": message_text(event, info), "followup": info}


def _settings():

    return get_settings()


def deliver(session: Session, payload: dict, ctx: JobContext) -> None:
    fu = session.get(FollowUp, payload["followup_id"])
    if fu is None:
        return
    settings = _settings()
    info = describe(session, fu, settings.base_url)
    event = payload["event"]
    if "email" in payload:
        _mail(payload["email"], event, info, SmtpConfig.from_settings(settings), ctx)
        return
    channel = session.get(NotificationChannel, payload["channel_id"])
    if channel is None or not channel.active:
        return
    if channel.kind == "email":
        _mail(channel.target, event, info, SmtpConfig.from_settings(settings), ctx)
        return
    body = json.dumps(payload_for(channel.kind, event, info), separators=(",", ":"), ensure_ascii=False).encode()
    # a deleted Slack/Teams webhook answers 404 and stays deleted
    post_signed(channel.target, body, event=f"followup.{event}", delivery=f"fu-{fu.id}-{event}-{channel.id}",
                secret=channel.secret, label=f"channel {channel.name}", gone_statuses=(404, 410))


def _mail(address: str, event: str, info: dict, smtp: SmtpConfig, ctx: JobContext) -> None:
    message = EmailMessage()
    message["To"] = address
    message["Subject"] = f"{_TITLES[event][0]} / {_TITLES[event][1]} #{info['id']}: {info['cause']}"
    message.set_content(message_text(event, info))
    send_or_retry(message, smtp)

