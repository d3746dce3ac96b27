"""TOPdesk: an HTTP request action (Action Management) on incident events.

The administrator composes the request body in TOPdesk; docs/connectors.md gives one with the incident's
fields as TOPdesk's REST API names them (developers.topdesk.com, incident: ``number``,
``processingStatus.name``, ``operatorGroup.name``, ``caller.id``, ``entryType.name``, ``completed``,
``closed``, ``modificationDate``) under ``incident``, and an ``event`` value per action (created,
group_assigned, ...). Where each value is read from is set in the mapping's ``fields`` (dotted paths).
Without a named event the kind comes from ``completed``/``closed`` and the status.
"""

from __future__ import annotations

from datetime import datetime

from servicepulse.connectors.events import PayloadError, TicketEvent, flag, mapped_event, status_kind, text
from servicepulse.connectors.mapping import KINDS, Mapping


def _at(payload: dict, path: str | None):
    value = payload
    for part in (path or "").split("."):
        if not part or not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def parse(payload, mapping: Mapping, delivery_digest: str, now: datetime) -> list[TicketEvent]:
    if not isinstance(payload, dict):
        raise PayloadError("/", "the body must be a JSON object")
    f = mapping.fields

    def get(name: str, limit: int = 100):
        path = f.get(name)
        return text(_at(payload, path), path.replace(".", "/"), limit=limit) if path else None

    ticket = get("ticket", 60)
    if ticket is None:
        raise PayloadError(f.get("ticket", "incident.number").replace(".", "/"), "is missing")
    status = get("status", 100)
    named = (get("event", 40) or "").strip().casefold() or None
    if named is not None and named not in KINDS:
        raise PayloadError(f.get("event", "event"), f"{named!r} is not one of {', '.join(KINDS)}")
    if named in (None, "status_changed"):
        if flag(_at(payload, f.get("completed"))) or flag(_at(payload, f.get("closed"))):
            kind = "solved"
        elif status is None:
            raise PayloadError(f.get("status", "incident.processingStatus.name").replace(".", "/"),
                               "is missing (needed when no event is named)")
        else:
            kind = status_kind(mapping, status)
    else:
        kind = named
    return [mapped_event(get, ticket, kind, status, delivery_digest, f.get("time", "time"), now)]
