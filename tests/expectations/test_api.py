"""/api/v1 promises: create (idempotent), list, CSV import, kept rate, forecast without a model."""

from __future__ import annotations

from servicepulse.db.session import UnitOfWork
from servicepulse.org import service

from .helpers import at, event, ingest


def _key(engine) -> dict:
    with UnitOfWork(engine) as s:
        return {"Authorization": f"Bearer {service.create_api_key(s, 'crm', scopes=service.INSTALLATION_SCOPES).key}"}


def test_promises_api(engine, client):
    headers = _key(engine)
    ingest(engine, [event("API1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
                    event("API1", 5, "Customer called back", direction="outbound", facing=True)])
    body = {"kind": "callback", "made_at": at(0.5).isoformat(), "due_at": at(8).isoformat(), "external_id": "crm-1"}
    created = client.post("/api/v1/cases/API1/promises", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "open" and created.json()["source"] == "api"
    again = client.post("/api/v1/cases/API1/promises", json=body, headers=headers)
    assert again.json()["id"] == created.json()["id"]

    bad = client.post("/api/v1/cases/API1/promises", headers=headers,
                      json={**body, "external_id": None, "due_at": at(0).isoformat()})
    assert bad.status_code == 422 and "due before it was made" in bad.text
    assert client.post("/api/v1/cases/NOPE/promises", json=body, headers=headers).status_code == 404
    assert client.post("/api/v1/cases/API1/promises", json=body).status_code == 401

    csv = ("case_id,kind,made_at,due_at\n"
           f"API1,reply_by,{at(1).isoformat()},{at(30).isoformat()}\n")
    imported = client.post("/api/v1/promises/csv", content=csv.encode(),
                           headers={**headers, "Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json() == {"imported": 1}
    broken_csv = csv.replace("reply_by", "someday")
    refused = client.post("/api/v1/promises/csv", content=broken_csv.encode(),
                          headers={**headers, "Content-Type": "text/csv"})
    assert refused.status_code == 422 and "row 1" in refused.text

    from servicepulse.expectations.promises import evaluate_promises

    with UnitOfWork(engine) as s:
        evaluate_promises(s, at(40))
    listed = client.get("/api/v1/cases/API1/promises", headers=headers).json()["items"]
    assert sorted(p["status"] for p in listed) == ["kept", "kept"]
    rates = client.get("/api/v1/promises/kept-rate?by=kind", headers=headers).json()["items"]
    assert {r["group"]: (r["kept"], r["broken"]) for r in rates} == {"callback": (1, 0), "reply_by": (1, 0)}
    forecast = client.get("/api/v1/cases/API1/forecast", headers=headers).json()
    assert forecast["state"] == "no_model"
