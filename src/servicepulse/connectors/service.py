"""Ticket events -> case events, stored through `cases.ingest_events` in the caller's unit of work.

Idempotent: every case event's id is the vendor's name and its id of the delivered event (a Zendesk event
id, a Salesforce notification id, or for Freshdesk and TOPdesk the ticket, the kind and a digest of the
delivery), so a repeated delivery finds its events stored and writes nothing at all -- no case facts, no
jobs. New events go the one import path, so the survey triggers (`invitations.on_events`, a trigger rule on
the mapped activity, e.g. "Ticket resolved") and the expectations hear of them as of any import.

Privacy: of a payload only the ticket id, the requester's id (as the customer's external id), the channel,
the group and the status are kept; names, e-mail addresses and message texts are not read.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from servicepulse.cases import ingest_events
from servicepulse.connectors import repository
from servicepulse.connectors.events import TicketEvent
from servicepulse.connectors.mapping import Mapping

log = logging.getLogger(__name__)
MAX_EVENT_ID = 120  # case_events.external_id


@dataclass
class Received:
    received: int = 0  # ticket events in the delivery
    stored: int = 0
    duplicates: int = 0  # already stored by an earlier delivery of the same event
    ignored: int = 0  # kinds the mapping does not record (priority changed, or set to null)
    cases: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"received": self.received, "stored": self.stored, "duplicates": self.duplicates,
                "ignored": self.ignored, "cases": self.cases}


def digest(body: bytes) -> str:
    """Identifies one delivery by its content (vendors without an event id resend the same body)."""
    return hashlib.sha256(body).hexdigest()[:32]


def event_id(vendor: str, event: TicketEvent) -> str:
    out = f"{vendor}:{event.delivery_id}"
    if len(out) > MAX_EVENT_ID:
        out = f"{vendor}:h:{hashlib.sha256(event.delivery_id.encode()).hexdigest()}"
    return out


def records(vendor: str, events: list[TicketEvent], mapping: Mapping) -> tuple[list[dict], int]:
    """Case-event records for the `cases` import (API-record layout), and how many events were ignored."""
    out, ignored = [], 0
    for event in events:
        target = mapping.event(event.kind) if event.kind else None
        if target is None:
            ignored += 1
            continue
        record = {
            "event_id": event_id(vendor, event),
            "case_id": f"{mapping.case_prefix}{event.ticket_id}",
            "activity": target.activity,
            "timestamp": event.occurred_at.isoformat(),
            "channel": mapping.channel(event.channel),
            "team": mapping.team(event.group),
            "direction": target.direction,
            "line": target.line,
            "customer_facing": target.customer_facing,
            "connector": vendor,
            "ticket_event": event.kind,
        }
        if event.status:
            record["ticket_status"] = event.status
        if event.customer:
            record["customer"] = f"{mapping.customer_prefix}{event.customer}"
        if mapping.journey:
            record["journey"] = mapping.journey
        out.append({k: v for k, v in record.items() if v is not None})
    return out, ignored


def receive(session: Session, vendor: str, events: list[TicketEvent], mapping: Mapping) -> Received:
    """Store a delivery's ticket events as case events (never commits). Raises `EventLogError` for values the
    import refuses (a time in the future, a text too long), naming the field."""
    rows, ignored = records(vendor, events, mapping)
    result = Received(received=len(events), ignored=ignored)
    known = repository.stored_event_ids(session, [r["event_id"] for r in rows])
    fresh = [r for r in rows if r["event_id"] not in known]
    result.duplicates = len(rows) - len(fresh)
    result.cases = sorted({r["case_id"] for r in rows})
    if fresh:
        summary = ingest_events(session, fresh, source="request")
        result.stored = summary.stored
        result.duplicates += summary.duplicates
    # counts only: a payload's ids and values stay out of the log
    log.info("%s delivery: %d event(s), %d stored, %d duplicate(s), %d ignored", vendor, result.received,
             result.stored, result.duplicates, result.ignored)
    return result
