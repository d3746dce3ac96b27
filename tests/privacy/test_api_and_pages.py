"""DELETE /api/v1/customers/{id} and the export: admin keys only, problem+json; the admin pages (403 for
every other role), the erase form, the export download and the paged audit log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Customer, User
from servicepulse.org import record_audit
from servicepulse.org import service as org_service
from servicepulse.settings import Settings

from .conftest import EXTERNAL_ID, csrf_from, login


@pytest.fixture
def app(engine, tmp_path):
    return create_app(engine, Settings(secret_key="privacy-tests-" + "x" * 30, data_dir=tmp_path))


@pytest.fixture
def keys(engine, subject):
    with UnitOfWork(engine) as s:
        return {
            "admin": org_service.create_api_key(s, "admin", created_by=s.get(User, subject.org.users["admin"]),
                                                scopes=["admin"]).key,
            "admin-no-scope": org_service.create_api_key(s, "admin-read", created_by=s.get(
                User, subject.org.users["admin"]), scopes=["read:metrics"]).key,
            "analyst": org_service.create_api_key(s, "analyst", created_by=s.get(User, subject.org.users["analyst"]),
                                                  scopes=["read:metrics"]).key,
        }


def _api(app, key: str) -> TestClient:
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def test_delete_is_for_admins_then_204_then_404(engine, app, keys):
    for who in ("analyst", "admin-no-scope"):
        refused = _api(app, keys[who]).delete(f"/api/v1/customers/{EXTERNAL_ID}")
        assert refused.status_code == 403, who
        assert refused.headers["content-type"].startswith("application/problem+json")
    admin = _api(app, keys["admin"])
    exported = admin.get(f"/api/v1/customers/{EXTERNAL_ID}/export")
    assert exported.status_code == 200
    body = exported.json()
    assert body["customer"]["external_id"] == EXTERNAL_ID and len(body["responses"]) == 2
    assert body["cases"] and body["followups"]
    assert admin.delete(f"/api/v1/customers/{EXTERNAL_ID}").status_code == 204
    again = admin.delete(f"/api/v1/customers/{EXTERNAL_ID}")
    assert again.status_code == 404 and again.headers["content-type"].startswith("application/problem+json")
    assert admin.get(f"/api/v1/customers/{EXTERNAL_ID}/export").status_code == 404
    with UnitOfWork(engine, readonly=True) as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["customer.export", "customer.erase"]
        assert s.scalar(select(Customer.id).where(Customer.external_id == EXTERNAL_ID)) is None


@pytest.mark.parametrize("role", ["analyst", "lead", "agent_a"])
def test_pages_refuse_other_roles(app, subject, role):
    with TestClient(app) as client:
        assert login(client, subject.org.email(role)).status_code == 303
        for path in ("/privacy", "/privacy/audit", f"/privacy/export?id={EXTERNAL_ID}"):
            assert client.get(path).status_code == 403, path
        assert "/privacy" not in client.get("/").text


def test_admin_pages_erase_export_and_audit(engine, app, subject):
    with UnitOfWork(engine) as s:
        for i in range(60):
            record_audit(s, "user:1", "users.change", {"n": i})
    with TestClient(app) as client:
        assert login(client, subject.org.email("admin")).status_code == 303
        page = client.get("/privacy")
        assert page.status_code == 200 and 'href="/privacy"' in page.text and "730" in page.text
        download = client.get(f"/privacy/export?id={EXTERNAL_ID}")
        assert download.status_code == 200 and download.json()["customer"]["external_id"] == EXTERNAL_ID
        assert "attachment" in download.headers["content-disposition"]
        token = csrf_from(page.text)
        mismatch = client.post("/privacy/erase", data={"id": EXTERNAL_ID, "confirm": "x", "csrf_token": token})
        assert mismatch.status_code == 422
        done = client.post("/privacy/erase", data={"id": EXTERNAL_ID, "confirm": EXTERNAL_ID, "csrf_token": token},
                           follow_redirects=False)
        assert done.status_code == 303
        shown = client.get(done.headers["location"])
        assert 'id="erasure-done"' in shown.text
        missing = client.post("/privacy/erase", data={"id": EXTERNAL_ID, "confirm": EXTERNAL_ID, "csrf_token": token})
        assert missing.status_code == 404 and 'id="privacy-error"' in missing.text
        first = client.get("/privacy/audit")
        assert first.status_code == 200 and first.text.count("<tr>") == 51 and 'rel="next"' in first.text
        second = client.get("/privacy/audit?page=2")
        assert 'rel="prev"' in second.text and "user:" in second.text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Customer.id).where(Customer.external_id == EXTERNAL_ID)) is None
