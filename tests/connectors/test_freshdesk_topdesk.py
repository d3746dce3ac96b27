"""Freshdesk and TOPdesk through the real app: the shared secret, the bodies docs/connectors.md gives
(filled as the helpdesk fills its placeholders), the kinds, idempotency by delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Customer

from .conftest import FRESHDESK_SECRET, TOPDESK_SECRET, basic, counts, iso, stored

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def freshdesk(ticket="4711", status="Open", event=None, triggered=None, group="Klantenservice", source="Phone",
              at=None) -> dict:
    """The "simple" body of a Freshdesk Trigger webhook action, placeholders filled in."""
    fields = {"ticket_id": ticket, "ticket_status": status, "ticket_source": source, "ticket_group_name": group,
              "ticket_requester_id": "80012345", "ticket_requester_email": "sanne@example.nl",
              "ticket_requester_name": "Sanne de Vries", "ticket_subject": "Factuur klopt niet"}
    if event is not None:
        fields["event"] = event
    if triggered is not None:
        fields["triggered_event"] = triggered
    if at is not None:
        fields["occurred_at"] = iso(at)
    return {"freshdesk_webhook": fields}


def post(client, vendor, payload, headers):
    return client.post(f"/api/v1/connectors/{vendor}", content=json.dumps(payload).encode(),
                       headers={"Content-Type": "application/json"} | headers)


def test_freshdesk_rules_become_case_events(engine, client):
    auth = basic("servicepulse", FRESHDESK_SECRET)
    deliveries = [
        freshdesk(event="created", at=T0),
        freshdesk(event="group_assigned", group="Facturatie", at=T0 + timedelta(minutes=3)),
        freshdesk(event="internal_note", at=T0 + timedelta(minutes=4)),
        freshdesk(event="public_reply", at=T0 + timedelta(minutes=5)),
        freshdesk(status="Resolved", triggered="{status:{from:Open,to:Resolved}}", at=T0 + timedelta(minutes=6)),
        freshdesk(status="Open", triggered="{status:{from:Resolved,to:Open}}", at=T0 + timedelta(minutes=7)),
        freshdesk(status="Pending", at=T0 + timedelta(minutes=8)),
        freshdesk(status="Resolved", at=T0 + timedelta(minutes=9)),
    ]
    for payload in deliveries:
        answer = post(client, "freshdesk", payload, auth)
        assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    events = stored(engine)
    assert [(e["activity"], e["channel"]) for e in events] == [
        ("Ticket created", "phone"), ("Ticket assigned to group", "phone"), ("Internal note", "phone"),
        ("Public reply", "phone"), ("Ticket resolved", "phone"), ("Ticket reopened", "phone"),
        ("Ticket status changed", "phone"), ("Ticket resolved", "phone")]
    assert {e["case"] for e in events} == {"freshdesk:4711"}
    assert events[4]["attributes"]["ticket_status"] == "Resolved"
    with UnitOfWork(engine, readonly=True) as s:
        case = s.scalar(select(Case).where(Case.external_id == "freshdesk:4711"))
        customer = s.get(Customer, case.customer_id)
        assert (customer.external_id, customer.email, customer.name) == ("freshdesk:80012345", None, None)
    text = json.dumps([{k: str(v) for k, v in e.items()} for e in events])
    assert "sanne" not in text.lower() and "Factuur" not in text


def test_freshdesk_secret_as_api_key_or_bearer_and_refusals(engine, client):
    payload = freshdesk(event="created", at=T0)
    as_api_key = post(client, "freshdesk", payload, basic(FRESHDESK_SECRET, "X"))  # Freshdesk's API-key form
    assert as_api_key.status_code == 200 and as_api_key.json()["stored"] == 1
    again = post(client, "freshdesk", payload, {"Authorization": f"Bearer {FRESHDESK_SECRET}"})
    assert again.json() == {"received": 1, "stored": 0, "duplicates": 1, "ignored": 0, "cases": ["freshdesk:4711"]}
    before = counts(engine)
    for headers in ({}, basic("servicepulse", "wrong"), {"Authorization": "Bearer " + TOPDESK_SECRET},
                    {"Authorization": "Basic not-base64!"}):
        answer = post(client, "freshdesk", freshdesk(event="public_reply", at=T0), headers)
        assert answer.status_code == 401 and FRESHDESK_SECRET not in answer.text
    unknown = post(client, "freshdesk", freshdesk(event="escalated"), basic("u", FRESHDESK_SECRET))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "event"
    no_ticket = post(client, "freshdesk", {"freshdesk_webhook": {"event": "created"}}, basic("u", FRESHDESK_SECRET))
    assert no_ticket.status_code == 422 and no_ticket.json()["errors"][0]["field"] == "ticket_id"
    assert counts(engine) == before


def topdesk(number="I 2412 031", status="In behandeling", event=None, completed=False, at=None) -> dict:
    """The body docs/connectors.md gives for TOPdesk's HTTP request action, with the incident's fields as
    TOPdesk's REST API names them."""
    body = {"incident": {
        "id": "4c0f5a8e-8d1d-4bb5-a7e4-1f0a9b7c3d21", "number": number,
        "processingStatus": {"id": "1f3c", "name": status},
        "operatorGroup": {"id": "9ab2", "name": "Woningonderhoud"},
        "caller": {"id": "c7d4e2f0-1111-4a2b-9c8d-000000000042", "dynamicName": "Sanne de Vries",
                   "email": "sanne@example.nl"},
        "entryType": {"id": "e1", "name": "Telefonisch"},
        "completed": completed, "closed": False,
        "modificationDate": (at or T0).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
    }}
    if event:
        body["event"] = event
    return body


def test_topdesk_actions_become_case_events(engine, client):
    auth = {"Authorization": f"Bearer {TOPDESK_SECRET}"}
    deliveries = [
        topdesk(event="created", status="Geregistreerd", at=T0),
        topdesk(event="group_assigned", at=T0 + timedelta(minutes=10)),
        topdesk(status="Wacht op leverancier", at=T0 + timedelta(minutes=20)),
        topdesk(status="Afgemeld", completed=True, at=T0 + timedelta(minutes=30)),
        topdesk(event="reopened", at=T0 + timedelta(minutes=40)),
    ]
    for payload in deliveries:
        answer = post(client, "topdesk", payload, auth)
        assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text
    events = stored(engine)
    assert [(e["activity"], e["channel"], e["case"]) for e in events] == [
        ("Ticket created", "phone", "topdesk:I 2412 031"), ("Ticket assigned to group", "phone", "topdesk:I 2412 031"),
        ("Ticket status changed", "phone", "topdesk:I 2412 031"), ("Ticket resolved", "phone", "topdesk:I 2412 031"),
        ("Ticket reopened", "phone", "topdesk:I 2412 031")]
    assert events[3]["occurred_at"] == T0 + timedelta(minutes=30)  # modificationDate with TOPdesk's +0000 offset
    assert post(client, "topdesk", deliveries[3], basic("servicepulse", TOPDESK_SECRET)).json()["duplicates"] == 1
    with UnitOfWork(engine, readonly=True) as s:
        [customer] = s.scalars(select(Customer)).all()
        assert customer.external_id == "topdesk:c7d4e2f0-1111-4a2b-9c8d-000000000042" and customer.email is None
    assert post(client, "topdesk", deliveries[0], {}).status_code == 401
