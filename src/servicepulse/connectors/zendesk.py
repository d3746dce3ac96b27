"""Zendesk: event-subscribed webhooks on ticket events, signed with the webhook's secret.

Zendesk documents (developer.zendesk.com/documentation/webhooks/verifying/) two headers,
``X-Zendesk-Webhook-Signature`` and ``X-Zendesk-Webhook-Signature-Timestamp``, and the signature as
base64(HMAC-SHA256(secret, timestamp + body)). A ticket event's payload
(developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/) has ``type``
(``zen:event-type:ticket.status_changed``, ...), ``id`` (the event's id: our idempotency key), ``time``,
``detail`` (the ticket: ``id``, ``status``, ``requester_id``, ``group_id``, ``via.channel``, ...) and
``event`` (what changed: ``current``/``previous``, or the ``comment`` with ``is_public`` and ``author``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from servicepulse.connectors.events import PayloadError, TicketEvent, moment, status_kind, text
from servicepulse.connectors.mapping import Mapping

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"
TYPE_PREFIX = "zen:event-type:ticket."


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(secret: str, signature: str | None, timestamp: str | None, body: bytes, now: datetime,
           max_age: timedelta) -> str | None:
    """None when the call is genuine and recent, else why not (said to the caller; never the secret)."""
    if not signature or not timestamp:
        return f"the {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers are required"
    if not hmac.compare_digest(sign(secret, timestamp, body), signature.strip()):
        return "the signature does not match the body"
    try:
        signed_at = moment(timestamp, TIMESTAMP_HEADER)
    except PayloadError:
        return f"{TIMESTAMP_HEADER} is not an ISO 8601 time"
    if abs(now - signed_at) > max_age:
        return f"the signature is more than {int(max_age.total_seconds())} seconds from the current time"
    return None


def _id(value) -> str | None:
    """An id that may arrive as a number, a text or an object with an ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    if value in (None, "", 0, "0"):
        return None
    return text(value, "id")


def _status(value, field: str) -> str | None:
    """A status as a text ("SOLVED") or as an object ({"status": "Solved"}, as ticket.created's event has it)."""
    if isinstance(value, dict):
        value = value.get("status")
    return text(value, field, limit=60)


def parse(payload, mapping: Mapping) -> list[TicketEvent]:
    if not isinstance(payload, dict):
        raise PayloadError("/", "the body must be a JSON object (one Zendesk event)")
    kind_name = text(payload.get("type"), "type", required=True, limit=200)
    if not kind_name.startswith("zen:event-type:"):
        raise PayloadError("type", f"{kind_name!r} is not a Zendesk event type")
    detail = payload.get("detail")
    if not isinstance(detail, dict):
        raise PayloadError("detail", "is missing or not an object")
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    requester = _id(detail.get("requester_id"))
    status = text(detail.get("status"), "detail/status", limit=60)
    group = _id(detail.get("group_id"))
    kind = None
    if kind_name.startswith(TYPE_PREFIX):
        change = kind_name.removeprefix(TYPE_PREFIX)
        if change == "created":
            kind = "created"
        elif change == "status_changed":
            current = _status(event.get("current"), "event/current") or status
            kind = status_kind(mapping, current, _status(event.get("previous"), "event/previous"))
            status = current
        elif change == "group_assignment_changed":
            kind = "group_assigned"
            group = _id(event.get("current")) or group
        elif change == "comment_added":
            comment = event.get("comment") if isinstance(event.get("comment"), dict) else {}
            author = comment.get("author") if isinstance(comment.get("author"), dict) else {}
            if comment.get("is_public") is False:
                kind = "internal_note"
            elif (requester is not None and _id(author.get("id")) == requester) or author.get("is_staff") is False:
                kind = "customer_reply"
            else:
                kind = "public_reply"
    return [TicketEvent(
        delivery_id=text(payload.get("id"), "id", required=True, limit=100),
        ticket_id=text(detail.get("id"), "detail/id", required=True, limit=60),
        kind=kind,
        occurred_at=moment(payload.get("time"), "time"),
        channel=text((detail.get("via") or {}).get("channel") if isinstance(detail.get("via"), dict) else None,
                     "detail/via/channel", limit=60),
        group=group,
        customer=requester,
        status=status,
    )]
