"""What every connector reads out of a delivery: ticket events in the vendors' common terms.

A parser (`zendesk.py`, `freshdesk.py`, `topdesk.py`, `salesforce.py`) turns a verified payload into
`TicketEvent`s; `service.py` maps them to case events. Only what the case needs is kept: the ticket id,
the kind, the time, the channel, the group and the requester's id. Names, e-mail addresses and message
texts in the payload are never read into an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from servicepulse.connectors.mapping import Mapping


class PayloadError(ValueError):
    """The delivery is not shaped as the vendor documents it; the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TicketEvent:
    delivery_id: str  # the vendor's id of this event (or a digest of the delivery): the idempotency key
    ticket_id: str
    kind: str | None  # one of mapping.KINDS; None: an event we do not record (priority changed, ...)
    occurred_at: datetime
    channel: str | None = None
    group: str | None = None
    customer: str | None = None
    status: str | None = None


def text(value, field: str, *, required: bool = False, limit: int = 100) -> str | None:
    """A scalar payload value as text (ids arrive as numbers or strings)."""
    if value is None or value == "":
        if required:
            raise PayloadError(field, "is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PayloadError(field, "must be a text or a number")
    out = str(value).strip()
    if required and not out:
        raise PayloadError(field, "is empty")
    if len(out) > limit:
        raise PayloadError(field, f"is longer than {limit} characters")
    return out or None


def moment(value, field: str, default: datetime | None = None) -> datetime:
    """An ISO 8601 time (a trailing Z allowed); without an offset it is taken as UTC."""
    if value in (None, ""):
        if default is None:
            raise PayloadError(field, "is missing")
        return default
    if not isinstance(value, str):
        raise PayloadError(field, "must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(field, f"is not an ISO 8601 time: {value[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mapped_event(get, ticket: str, kind: str, status, delivery_digest: str, time_field: str,
                 now: datetime) -> TicketEvent:
    """The one event of a helpdesk whose admin-written body names its fields in the mapping (Freshdesk,
    TOPdesk): ``get(name, limit)`` reads a mapped field; they send no event id, so the delivery id is the
    ticket, the kind and a digest of the body."""
    return TicketEvent(
        delivery_id=f"{ticket}:{kind}:{delivery_digest}",
        ticket_id=ticket,
        kind=kind,
        occurred_at=moment(get("time", 40), time_field, default=now),
        channel=get("source", 60),
        group=get("group", 200),
        customer=get("customer"),
        status=status,
    )


def flag(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().casefold() in ("true", "1", "yes", "ja"))


def status_kind(mapping: Mapping, current, previous=None) -> str:
    """The kind of a status change: solved, reopened, created or a plain status change.

    A move out of a solved or closed status is a reopening; a move into a solved status from an open one is
    solved (solved -> closed is neither); without a previous status (Salesforce) the status alone decides."""
    cur = str(current or "").strip().casefold()
    prev = str(previous).strip().casefold() if previous not in (None, "") else None
    done = set(mapping.solved_statuses) | set(mapping.closed_statuses)
    if cur in mapping.reopened_statuses:
        return "reopened"
    if prev is not None and prev in done and cur not in done:
        return "reopened"
    if cur in mapping.solved_statuses and (prev is None or prev not in done):
        return "solved"
    if prev is None and cur in mapping.created_statuses:
        return "created"
    return "status_changed"
