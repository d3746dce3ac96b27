"""Zendesk ticket events through the real app: signature, mapping to case events, idempotency, privacy."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Customer, OrgUnit

from .conftest import ZENDESK_SECRET, counts, post_zendesk, stored, zendesk_event, zendesk_headers

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def _lifecycle(ticket: int = 35436) -> list[dict]:
    """One ticket's life, event by event, as Zendesk's event-subscribed webhook delivers it."""
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    return [
        zendesk_event("created", ticket, at(0), {"current": {"status": "NEW"}}, event_id="ev-1", status="NEW"),
        zendesk_event("group_assignment_changed", ticket, at(5), {"current": {"id": "360001"}, "previous": None},
                      event_id="ev-2", group=360001),
        zendesk_event("comment_added", ticket, at(10), {"comment": {
            "id": "9001", "body": "Wij hebben een monteur ingepland.", "is_public": False,
            "author": {"id": "235324", "is_staff": True, "name": "Agent Jansen"}}}, event_id="ev-3"),
        zendesk_event("status_changed", ticket, at(11), {"current": "OPEN", "previous": "NEW"}, event_id="ev-4"),
        zendesk_event("comment_added", ticket, at(20), {"comment": {
            "id": "9002", "body": "Beste Sanne, de monteur komt morgen.", "is_public": True,
            "author": {"id": "235324", "is_staff": True, "name": "Agent Jansen"}}}, event_id="ev-5"),
        zendesk_event("comment_added", ticket, at(30), {"comment": {
            "id": "9003", "body": "Dank u, tot morgen. Sanne de Vries, 06-12345678", "is_public": True,
            "author": {"id": "20978392", "is_staff": False, "name": "Sanne de Vries"}}}, event_id="ev-6"),
        zendesk_event("priority_changed", ticket, at(31), {"current": "HIGH", "previous": "LOW"}, event_id="ev-7"),
        zendesk_event("status_changed", ticket, at(40), {"current": "SOLVED", "previous": "OPEN"},
                      event_id="ev-8", status="SOLVED"),
        zendesk_event("status_changed", ticket, at(50), {"current": {"status": "Open"}, "previous": {"status": "Solved"}},
                      event_id="ev-9"),
        zendesk_event("status_changed", ticket, at(60), {"current": "solved", "previous": "open"},
                      event_id="ev-10", status="SOLVED"),
        zendesk_event("status_changed", ticket, at(70), {"current": "CLOSED", "previous": "SOLVED"},
                      event_id="ev-11", status="CLOSED"),
    ]


def test_a_tickets_life_becomes_case_events_with_the_mapped_flags(engine, client):
    answers = [post_zendesk(client, p) for p in _lifecycle()]
    assert [a.status_code for a in answers] == [200] * 11, [a.text for a in answers]
    assert answers[6].json() == {"received": 1, "stored": 0, "duplicates": 0, "ignored": 1,
                                 "cases": []}  # priority changes are not recorded
    events = stored(engine)
    got = [(e["activity"], e["direction"], e["line"], e["customer_facing"]) for e in events]
    assert got == [
        ("Ticket created", "inbound", "front", True),
        ("Ticket assigned to group", None, "back", False),
        ("Internal note", None, "back", False),
        ("Ticket status changed", None, "back", False),
        ("Public reply", "outbound", "front", True),
        ("Customer reply", "inbound", "front", True),
        ("Ticket resolved", "outbound", "front", True),
        ("Ticket reopened", "inbound", "front", True),
        ("Ticket resolved", "outbound", "front", True),
        ("Ticket status changed", None, "back", False),  # solved -> closed: neither solved again nor reopened
    ]
    assert {e["case"] for e in events} == {"zendesk:35436"}
    assert [e["external_id"] for e in events][:2] == ["zendesk:ev-1", "zendesk:ev-2"]
    assert {e["channel"] for e in events} == {"web"}
    assert events[0]["occurred_at"] == T0 and events[-1]["occurred_at"] == T0 + timedelta(minutes=70)
    with UnitOfWork(engine, readonly=True) as s:
        case = s.scalar(select(Case).where(Case.external_id == "zendesk:35436"))
        customer = s.get(Customer, case.customer_id)
        assert customer.external_id == "zendesk:20978392"
        # the group id became a team (the mapping's `groups` can name it)
        team = s.get(OrgUnit, events[1]["team_id"])
        assert team.name == "Zendesk group 360001"


def test_the_same_delivery_twice_changes_nothing(engine, client):
    payload = _lifecycle()[7]  # solved
    first = post_zendesk(client, payload)
    assert first.status_code == 200 and first.json()["stored"] == 1
    before = counts(engine)
    again = post_zendesk(client, payload)  # Zendesk retries with a fresh signature over the same event
    assert again.status_code == 200
    assert again.json() == {"received": 1, "stored": 0, "duplicates": 1, "ignored": 0, "cases": ["zendesk:35436"]}
    assert counts(engine) == before  # no event, case, customer or job more
    assert before == {"cases": 1, "events": 1, "customers": 1, "jobs": before["jobs"]} and before["jobs"] >= 1


def test_a_wrong_or_missing_or_stale_signature_stores_nothing(engine, client):
    payload = _lifecycle()[0]
    body = json.dumps(payload).encode()
    wrong_secret = client.post("/api/v1/connectors/zendesk", content=body,
                               headers=zendesk_headers(body, secret="another-secret"))
    tampered = client.post("/api/v1/connectors/zendesk", content=body.replace(b"35436", b"35437"),
                           headers=zendesk_headers(body))
    unsigned = client.post("/api/v1/connectors/zendesk", content=body, headers={"Content-Type": "application/json"})
    stale = client.post("/api/v1/connectors/zendesk", content=body,
                        headers=zendesk_headers(body, at=datetime.now(UTC) - timedelta(hours=2)))
    for answer in (wrong_secret, tampered, unsigned, stale):
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert ZENDESK_SECRET not in answer.text
    assert "does not match" in wrong_secret.json()["detail"] and "does not match" in tampered.json()["detail"]
    assert "X-Zendesk-Webhook-Signature" in unsigned.json()["detail"]
    assert "600 seconds" in stale.json()["detail"]
    assert counts(engine)["events"] == 0


def test_an_unconfigured_connector_answers_404(engine, client, monkeypatch):
    monkeypatch.delenv("SERVICEPULSE_CONNECTOR_ZENDESK_SECRET")
    answer = post_zendesk(client, _lifecycle()[0])
    assert answer.status_code == 404 and "not configured" in answer.json()["detail"]


def test_payloads_not_shaped_as_documented_are_refused_naming_the_field(engine, client):
    good = _lifecycle()[0]
    no_detail = {k: v for k, v in good.items() if k != "detail"}
    no_ticket = good | {"detail": {k: v for k, v in good["detail"].items() if k != "id"}}
    bad_time = good | {"time": "gisteren"}
    future = good | {"time": (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ"), "id": "f"}
    for payload, field in ((no_detail, "detail"), (no_ticket, "detail/id"), (bad_time, "time"),
                           (future, "timestamp")):
        answer = post_zendesk(client, payload)
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"][0]["field"] == field
    body = b"{not json"
    answer = client.post("/api/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "/"
    assert counts(engine)["events"] == 0


def test_names_addresses_and_texts_of_the_payload_are_neither_stored_nor_logged(engine, client, caplog):
    payloads = _lifecycle()
    payloads[0]["detail"]["requester"] = {"name": "Sanne de Vries", "email": "sanne@example.nl"}
    with caplog.at_level(logging.DEBUG):
        for p in payloads:
            assert post_zendesk(client, p).status_code == 200
    personal = ("Sanne", "sanne@example.nl", "06-12345678", "monteur", "Storing glasvezel", "Agent Jansen")
    everything = json.dumps([{k: str(v) for k, v in e.items()} for e in stored(engine)])
    with UnitOfWork(engine, readonly=True) as s:
        everything += json.dumps([[c.external_id, c.email, c.name, c.phone] for c in s.scalars(select(Customer))])
        everything += json.dumps([c.attributes for c in s.scalars(select(Case))])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for word in personal:
        assert word not in everything, word
        assert word not in logged, word
    assert "20978392" not in logged and "35436" not in logged  # not even ids
    assert "zendesk delivery" in logged  # the counts are
