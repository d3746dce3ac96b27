"""Trigger rules through /api/v1 with an API key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Case, utcnow
from servicepulse.models.invitations import TriggerDecision, TriggerRule
from servicepulse.org.service import INSTALLATION_SCOPES, create_api_key

from ..web.conftest import settings  # noqa: F401  (fixture)
from .support import seed_world


def test_rules_are_managed_and_decisions_counted_through_the_api(engine, settings):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        key = create_api_key(s, "crm", scopes=INSTALLATION_SCOPES).key
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(engine, settings)) as client:
        assert client.get("/api/v1/trigger-rules").status_code == 401
        created = client.put("/api/v1/trigger-rules/contact-closed", headers=headers, json={
            "survey": "after_contact", "journey": "service", "activity": "Contact closed", "delay": "2h",
            "sample_percent": 40})
        assert created.status_code == 200, created.text
        assert created.json() | {} == {
            "key": "contact-closed", "survey": "after_contact", "journey": "service", "activity": "Contact closed",
            "delay_minutes": 120, "sample_percent": 40.0, "throttle_days": 30, "require_closed": False,
            "expires_days": 14, "reminder_after_days": 3, "active": True}
        updated = client.put("/api/v1/trigger-rules/contact-closed", headers=headers, json={
            "survey": "after_contact", "activity": "Contact *", "active": False, "reminder_after_days": None})
        assert updated.json()["activity"] == "Contact *" and updated.json()["active"] is False
        assert updated.json()["journey"] is None and updated.json()["reminder_after_days"] is None
        assert [r["key"] for r in client.get("/api/v1/trigger-rules", headers=headers).json()] == ["contact-closed"]
        with UnitOfWork(engine, readonly=True) as s:  # each change in the audit log, the refused ones not
            assert [(e.action, e.details) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == \
                [("trigger_rule.set", {"rule": "contact-closed"})] * 2

        bad = client.put("/api/v1/trigger-rules/x", headers=headers, json={"survey": "nope", "activity": "A"})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        assert "survey 'nope' does not exist" in bad.text
        bad = client.put("/api/v1/trigger-rules/x", headers=headers,
                         json={"survey": "after_contact", "activity": "A", "delay": "soon"})
        assert bad.status_code == 422 and "soon" in bad.text

        with UnitOfWork(engine) as s:
            rule_id = s.query(TriggerRule.id).scalar()
            for i, reason in enumerate(["invited", "throttled", "throttled"]):
                case = Case(external_id=f"K{i}", journey_id=world["journey"].id)
                s.add(case)
                s.flush()
                s.add(TriggerDecision(rule_id=rule_id, survey_id=world["survey"].id, case_id=case.id, reason=reason,
                                      decided_at=utcnow()))
        counts = client.get("/api/v1/trigger-decisions?survey=after_contact", headers=headers).json()
        assert counts["total"] == 3 and counts["counts"]["throttled"] == 2 and counts["counts"]["opted_out"] == 0
        assert client.get("/api/v1/trigger-decisions?rule=missing", headers=headers).status_code == 404
