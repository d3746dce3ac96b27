"""Salesforce outbound messages on Case through the real app: the SOAP envelope as the outbound messaging
WSDL defines it, the documented Ack, the organisation check, idempotency by notification id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lxml import etree

from .conftest import SALESFORCE_ORG, counts, stored

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def notification(notification_id: str, number: str, status: str, closed: bool, at: datetime,
                 origin: str = "Phone") -> str:
    return f"""
   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>5005e00000AbCdEAAV</sf:Id>
     <sf:CaseNumber>{number}</sf:CaseNumber>
     <sf:ContactId>0035e00000XyZ12AAB</sf:ContactId>
     <sf:IsClosed>{str(closed).lower()}</sf:IsClosed>
     <sf:LastModifiedDate>{at.strftime('%Y-%m-%dT%H:%M:%S.000Z')}</sf:LastModifiedDate>
     <sf:Origin>{origin}</sf:Origin>
     <sf:OwnerId>00G5e000001QueueAAA</sf:OwnerId>
     <sf:Status>{status}</sf:Status>
     <sf:SuppliedEmail>sanne@example.nl</sf:SuppliedEmail>
     <sf:SuppliedName>Sanne de Vries</sf:SuppliedName>
    </sObject>
   </Notification>"""


def envelope(*notifications: str, organisation: str = SALESFORCE_ORG) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{organisation}</OrganizationId>
   <ActionId>04k5e000000CaRkAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D5e000000KQ2e</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D5e000000KQ2e</PartnerUrl>{''.join(notifications)}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def post(client, body: bytes):
    return client.post("/api/v1/connectors/salesforce", content=body,
                       headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})


def acked(answer) -> bool:
    root = etree.fromstring(answer.content)
    return root.findtext(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notificationsResponse/{{{OUTBOUND}}}Ack") == "true"


def fault(answer) -> str:
    return etree.fromstring(answer.content).findtext(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/faultstring")


def test_outbound_messages_are_acked_and_stored_once(engine, client):
    first = envelope(notification("04l5e00000Gx7QzAAJ", "00001026", "New", False, T0),
                     notification("04l5e00000Gx7R0AAJ", "00001026", "Working", False, T0 + timedelta(minutes=5)))
    answer = post(client, first)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert acked(answer)
    closed = envelope(notification("04l5e00000Gx7R1AAJ", "00001026", "Closed", True, T0 + timedelta(minutes=30)))
    assert acked(post(client, closed))
    reopened = envelope(notification("04l5e00000Gx7R2AAJ", "00001026", "Reopened", False, T0 + timedelta(minutes=50),
                                     origin="Email"))
    assert acked(post(client, reopened))
    events = stored(engine)
    assert [(e["activity"], e["channel"], e["external_id"]) for e in events] == [
        ("Ticket created", "phone", "salesforce:04l5e00000Gx7QzAAJ"),
        ("Ticket status changed", "phone", "salesforce:04l5e00000Gx7R0AAJ"),
        ("Ticket resolved", "phone", "salesforce:04l5e00000Gx7R1AAJ"),
        ("Ticket reopened", "email", "salesforce:04l5e00000Gx7R2AAJ")]
    assert {e["case"] for e in events} == {"salesforce:00001026"}
    assert events[2]["occurred_at"] == T0 + timedelta(minutes=30)
    before = counts(engine)
    assert acked(post(client, closed))  # Salesforce retries until it gets the Ack: acked again, nothing stored
    assert counts(engine) == before
    assert "sanne" not in str(events).lower()


def test_other_organisations_and_broken_messages_get_a_fault_and_store_nothing(engine, client, monkeypatch):
    one = notification("04l5e00000Gx7QzAAJ", "00001026", "New", False, T0)
    other = post(client, envelope(one, organisation="00D5e000000ZZZZEAG"))
    assert other.status_code == 403 and "not accepted" in fault(other)
    fifteen = post(client, envelope(one, organisation=SALESFORCE_ORG[:15]))  # the 15-character form is the same org
    assert fifteen.status_code == 200 and acked(fifteen)
    broken = post(client, b"<soapenv:Envelope")
    assert broken.status_code == 400 and "well-formed" in fault(broken)
    entity = post(client, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert entity.status_code == 400 and "document type" in fault(entity)
    no_number = post(client, envelope(one.replace("<sf:CaseNumber>00001026</sf:CaseNumber>", "")))
    assert no_number.status_code == 422 and "CaseNumber" in fault(no_number)
    assert counts(engine)["events"] == 1
    monkeypatch.delenv("SERVICEPULSE_CONNECTOR_SALESFORCE_ORGANIZATION_ID")
    assert post(client, envelope(one)).status_code == 404
