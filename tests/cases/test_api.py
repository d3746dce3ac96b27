"""POST /api/v1/events and the case routes."""

from __future__ import annotations

from .conftest import counts

EVENT = {"event_id": "api-1", "case_id": "K-API", "activity": "Ticket created", "timestamp": "2026-03-02T10:15:00+01:00",
         "direction": "inbound", "channel": "phone", "team": "Front Office"}


def test_single_event_then_replay(api, engine, world):
    first = api.post("/api/v1/events", json=EVENT)
    assert first.status_code == 201, first.text
    assert first.json()["stored"] == 1 and first.json()["cases_created"] == 1
    again = api.post("/api/v1/events", json=EVENT)
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert counts(engine) == (1, 1, 1)
    case = api.get("/api/v1/cases/K-API").json()
    assert case["facts"]["inbound_contacts"] == 1 and case["last_team"] == "Front Office"
    assert case["opened_at"].startswith("2026-03-02T09:15:00")
    timeline = api.get("/api/v1/cases/K-API/timeline").json()
    assert timeline["steps"][0]["kinds"] == ["contact"]


def test_batch_with_bad_item_is_422_and_stores_nothing(api, engine, world):
    batch = [EVENT, {**EVENT, "event_id": "api-2", "timestamp": "gisteren"}, {**EVENT, "event_id": "api-3", "case_id": ""}]
    response = api.post("/api/v1/events", json=batch)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["/1/timestamp", "/2/case_id"]
    assert counts(engine) == (0, 0, 0)


def test_malformed_bodies_are_422(api, world):
    assert api.post("/api/v1/events", json="hello").status_code == 422
    assert api.post("/api/v1/events", json=[1, 2]).status_code == 422
    assert api.post("/api/v1/events", json={"activity": "x"}).status_code == 422


def test_api_key_required(api, world):
    response = api.post("/api/v1/events", json=EVENT, headers={"Authorization": ""})
    assert response.status_code == 401
    assert api.get("/api/v1/cases/nope").status_code == 404
