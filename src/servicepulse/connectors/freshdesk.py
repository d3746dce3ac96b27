"""Freshdesk: the "Trigger webhook" action of automation rules (ticket creation and ticket updates).

Freshdesk sends the JSON body the rule defines, filled from its placeholders ({{ticket.id}},
{{ticket.status}}, {{ticket.source}}, {{ticket.group.name}}, {{triggered_event}}, ...; see
support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules). In "simple"
mode the fields arrive wrapped in ``freshdesk_webhook``; both shapes are read. Which key holds what is
set in the mapping's ``fields`` (docs/connectors.md has the body to paste). The kind of event comes from
an ``event`` value the rule sends (one rule per kind), else from a status change in {{triggered_event}}
(``{status:{from:Open,to:Resolved}}``), else from the status alone.
"""

from __future__ import annotations

import re
from datetime import datetime

from servicepulse.connectors.events import PayloadError, TicketEvent, mapped_event, status_kind, text
from servicepulse.connectors.mapping import KINDS, Mapping

_STATUS_CHANGE = re.compile(r"status\W+from\W+(?P<old>[^,}\]]+?)\W*,\W*to\W+(?P<new>[^,}\]]+)", re.IGNORECASE)


def parse(payload, mapping: Mapping, delivery_digest: str, now: datetime) -> list[TicketEvent]:
    if isinstance(payload, dict) and isinstance(payload.get("freshdesk_webhook"), dict):
        payload = payload["freshdesk_webhook"]
    if not isinstance(payload, dict):
        raise PayloadError("/", "the body must be a JSON object")
    f = mapping.fields

    def get(name: str, limit: int = 100):
        key = f.get(name)
        return text(payload.get(key), key, limit=limit) if key else None

    ticket = get("ticket", 60)
    if ticket is None:
        raise PayloadError(f.get("ticket", "ticket_id"), "is missing")
    status, previous = get("status", 60), get("previous_status", 60)
    triggered = get("triggered_event", 500)
    if previous is None and triggered:
        change = _STATUS_CHANGE.search(triggered)
        if change:
            previous, status = change["old"].strip(), status or change["new"].strip()
    named = (get("event", 40) or "").strip().casefold() or None
    if named is not None and named not in KINDS:
        raise PayloadError(f.get("event", "event"), f"{named!r} is not one of {', '.join(KINDS)}")
    if named in (None, "status_changed"):
        if status is None:
            raise PayloadError(f.get("status", "ticket_status"), "is missing (needed when no event is named)")
        kind = status_kind(mapping, status, previous)
    else:
        kind = named
    return [mapped_event(get, ticket, kind, status, delivery_digest, f.get("time", "occurred_at"), now)]
