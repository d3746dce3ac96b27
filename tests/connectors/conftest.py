"""Fixtures for the helpdesk connectors: the app with connector secrets set, payloads shaped as each vendor
documents them, signing as Zendesk signs, and reading stored case events back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, CaseEvent, Customer, Job
from servicepulse.settings import Settings

ZENDESK_SECRET = "dGhpcyBpcyBhIHplbmRlc2sgc2lnbmluZyBzZWNyZXQ"
FRESHDESK_SECRET = "fd-shared-secret-5b9e"
TOPDESK_SECRET = "td-shared-secret-77c1"
SALESFORCE_ORG = "00D5e000000KQ2eEAG"


@pytest.fixture
def connector_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SERVICEPULSE_CONNECTOR_ZENDESK_SECRET", ZENDESK_SECRET)
    monkeypatch.setenv("SERVICEPULSE_CONNECTOR_FRESHDESK_SECRET", FRESHDESK_SECRET)
    monkeypatch.setenv("SERVICEPULSE_CONNECTOR_TOPDESK_SECRET", TOPDESK_SECRET)
    monkeypatch.setenv("SERVICEPULSE_CONNECTOR_SALESFORCE_ORGANIZATION_ID", SALESFORCE_ORG)
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    monkeypatch.setenv("SERVICEPULSE_CONNECTOR_MAPPING_DIR", str(mappings))
    return mappings


@pytest.fixture
def client(engine, tmp_path, connector_env):
    from servicepulse.app import create_app

    settings = Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path)
    with TestClient(create_app(engine, settings), base_url="http://testserver") as c:
        yield c


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_headers(body: bytes, secret: str = ZENDESK_SECRET, at: datetime | None = None) -> dict:
    """Signed as developer.zendesk.com/documentation/webhooks/verifying/ describes, computed here on its own."""
    timestamp = iso(at or datetime.now(UTC))
    signature = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    return {"Content-Type": "application/json", "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Webhook-Id": "01GK8E6BKWMJZD2T8Y5AXJQMG5",
            "X-Zendesk-Webhook-Signature": signature.decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp}


def zendesk_event(event_type: str, ticket: int, at: datetime, event: dict | None = None, *, event_id: str,
                  status: str = "OPEN", requester: int = 20978392, group: int = 98738, channel: str = "web") -> dict:
    """A ticket event as in developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/."""
    return {
        "type": f"zen:event-type:ticket.{event_type}",
        "account_id": 88888888,
        "id": event_id,
        "time": iso(at),
        "zendesk_event_version": "2022-11-06",
        "subject": f"zen:ticket:{ticket}",
        "detail": {
            "actor_id": "76872", "assignee_id": "235324", "brand_id": "123", "created_at": iso(at),
            "custom_status": "17", "description": "Mijn internet werkt niet sinds vanochtend",
            "external_id": "", "form_id": "6876543", "group_id": str(group), "id": str(ticket),
            "is_public": True, "organization_id": "10002", "priority": "LOW",
            "requester_id": str(requester), "status": status, "subject": "Storing glasvezel",
            "submitter_id": str(requester), "tags": ["storing"], "type": "INCIDENT", "updated_at": iso(at),
            "via": {"channel": channel},
        },
        "event": event or {},
    }


def post_zendesk(client, payload: dict, **headers):
    body = json.dumps(payload).encode()
    return client.post("/api/v1/connectors/zendesk", content=body, headers=zendesk_headers(body) | headers)


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def stored(engine) -> list[dict]:
    """Every stored case event with its case id, in time order."""
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Case.external_id, CaseEvent).join(Case, Case.id == CaseEvent.case_id)
                         .order_by(CaseEvent.occurred_at, CaseEvent.id)).all()
        return [{"case": case, "external_id": e.external_id, "activity": e.activity, "channel": e.channel,
                 "direction": e.direction, "line": e.line, "customer_facing": e.customer_facing,
                 "team_id": e.team_id, "occurred_at": e.occurred_at, "attributes": dict(e.attributes or {})}
                for case, e in rows]


def counts(engine) -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        return {"cases": s.scalar(select(func.count()).select_from(Case)),
                "events": s.scalar(select(func.count()).select_from(CaseEvent)),
                "customers": s.scalar(select(func.count()).select_from(Customer)),
                "jobs": s.scalar(select(func.count()).select_from(Job))}
