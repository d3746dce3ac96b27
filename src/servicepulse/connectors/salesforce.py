"""Salesforce Service Cloud: outbound messages (SOAP) on the Case object, answered with the documented Ack.

The message (developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_wsdl.htm)
is a SOAP envelope whose body holds ``notifications`` (namespace http://soap.sforce.com/2005/09/outbound)
with ``OrganizationId``, ``ActionId``, ``SessionId``, ``EnterpriseUrl``, ``PartnerUrl`` and up to 100
``Notification`` elements, each with its ``Id`` (the same on every retry: our idempotency key) and an
``sObject`` holding the fields chosen for the message (namespace urn:sobject.enterprise.soap.sforce.com).
The listener answers ``notificationsResponse`` with ``<Ack>true</Ack>``; without it Salesforce retries.
Salesforce signs nothing: its security notes
(developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_security.htm) ask
the listener to check the organisation id in every message, accept only Salesforce's IP ranges and use
TLS (optionally with Salesforce's client certificate); the last two belong to the proxy in front.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from lxml import etree

from servicepulse.connectors.events import PayloadError, TicketEvent, flag, moment, status_kind, text
from servicepulse.connectors.mapping import Mapping

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)
# No DTDs, no entities, no network: a message is plain data and nothing in it is fetched or expanded.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)


def fault(message: str, code: str = "soapenv:Client") -> str:
    """A SOAP 1.1 fault telling Salesforce why the message was not taken (it retries later)."""
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
            f"<soapenv:Fault><faultcode>{code}</faultcode><faultstring>{escaped}</faultstring></soapenv:Fault>"
            "</soapenv:Body></soapenv:Envelope>")


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def read(body: bytes) -> tuple[str, list[tuple[str, dict[str, str | None], str | None]]]:
    """(organisation id, [(notification id, sObject fields, sObject type)]) from an outbound message."""
    if b"<!DOCTYPE" in body[:2048].upper() or b"<!ENTITY" in body.upper():
        raise PayloadError("/", "document type declarations are not accepted")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PayloadError("/", f"not well-formed XML ({exc.msg})") from None
    notifications = root.find(f"{_q(SOAP_NS, 'Body')}/{_q(OUTBOUND_NS, 'notifications')}")
    if root.tag != _q(SOAP_NS, "Envelope") or notifications is None:
        raise PayloadError("Envelope/Body/notifications", "is missing: not a Salesforce outbound message")
    organisation = text(notifications.findtext(_q(OUTBOUND_NS, "OrganizationId")), "OrganizationId",
                        required=True, limit=18)
    out = []
    for i, item in enumerate(notifications.findall(_q(OUTBOUND_NS, "Notification"))):
        sobject = item.find(_q(OUTBOUND_NS, "sObject"))
        if sobject is None:
            raise PayloadError(f"Notification[{i}]/sObject", "is missing")
        fields = {child.tag.split("}", 1)[-1]: (child.text or "").strip() or None
                  for child in sobject if isinstance(child.tag, str) and child.tag.startswith(f"{{{SOBJECT_NS}}}")}
        kind_of_object = sobject.get(_q(XSI_NS, "type"))
        out.append((text(item.findtext(_q(OUTBOUND_NS, "Id")), f"Notification[{i}]/Id", required=True, limit=18),
                    fields, kind_of_object))
    if not out:
        raise PayloadError("notifications/Notification", "the message holds no notification")
    return organisation, out


def same_organisation(received: str, configured: str) -> bool:
    """Salesforce ids have a 15-character case-sensitive form and an 18-character one (3 check characters)."""
    a, b = received.strip()[:15], configured.strip()[:15]
    return len(b) == 15 and hmac.compare_digest(a.encode(), b.encode())


def parse(notifications, mapping: Mapping, now: datetime) -> list[TicketEvent]:
    f = mapping.fields
    events = []
    for i, (notification_id, fields, _type) in enumerate(notifications):
        def get(name: str, limit: int = 100, fields=fields, i=i):
            key = f.get(name)
            return text(fields.get(key), f"Notification[{i}]/sObject/{key}", limit=limit) if key else None

        ticket = get("ticket", 60)
        if ticket is None:
            raise PayloadError(f"Notification[{i}]/sObject/{f.get('ticket', 'CaseNumber')}",
                               "is missing: add it to the outbound message's fields")
        status = get("status", 100)
        kind = "solved" if flag(fields.get(f.get("closed", ""))) else status_kind(mapping, status)
        events.append(TicketEvent(
            delivery_id=notification_id,
            ticket_id=ticket,
            kind=kind,
            occurred_at=moment(get("time", 40), f"Notification[{i}]/sObject/{f.get('time', 'LastModifiedDate')}",
                               default=now),
            channel=get("source", 60),
            group=get("group", 200),
            customer=get("customer"),
            status=status,
        ))
    return events
