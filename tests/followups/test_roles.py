"""The whole role x action matrix, on the API (403) and on the pages (the refusal page).

Every cell starts from a fresh follow-up of team A in the state the action needs, so that an allowed
cell must really succeed (and its effect is checked in the database) and a forbidden one must change
nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import FollowUp, FollowUpContact, Gesture, User, utcnow
from servicepulse.models.followups import AlertRule, RecoveryBudget
from servicepulse.org import allowed_scopes
from servicepulse.org import service as org_service
from servicepulse.settings import Settings
from tests.web.conftest import csrf_from, login

from .conftest import PERIOD, add_response

ROLES = ("admin", "analyst", "lead", "agent_a", "agent_b")
WORKERS = {"lead", "agent_a"}
ALLOWED = {
    "list": {"admin", "analyst", "lead", "agent_a"},
    "view": {"admin", "analyst", "lead", "agent_a"},
    "view_verbatim": {"admin", "analyst", "lead", "agent_a"},
    "claim": WORKERS,
    "log_contact": WORKERS,
    "spend": WORKERS,
    "close": WORKERS,
    "approve": {"lead"},
    "manage_budgets": {"admin"},
    "manage_rules": {"admin"},
}
COMMENT = "Ik wil een klacht indienen over de factuur"


class Matrix:
    def __init__(self, engine, org):
        self.engine, self.org = engine, org
        self.counter = itertools.count(1)
        self.response_id = add_response(engine, "R-matrix", ces=6, grade=3, why=COMMENT)
        with UnitOfWork(engine) as s:
            for who in ("lead", "agent_a"):
                s.add(RecoveryBudget(user_id=org.users[who], period_start=PERIOD[0] - timedelta(days=3650),
                                     period_end=PERIOD[1] + timedelta(days=3650), amount_cents=1_000_000))
            s.add(RecoveryBudget(team_id=org.team_a, period_start=PERIOD[0] - timedelta(days=3650),
                                 period_end=PERIOD[1] + timedelta(days=3650), amount_cents=10_000_000))

    def followup(self, who: str, action: str) -> tuple[int, int | None]:
        """A fresh follow-up of team A ready for `action` by `who`; returns (followup id, gesture id)."""
        now = utcnow()
        claimer = self.org.users[who] if who in WORKERS else self.org.users["agent_a"]
        if action == "approve":
            claimer = self.org.users["agent_a"]
        claimed = action in ("log_contact", "spend", "close", "approve")
        with UnitOfWork(self.engine) as s:
            fu = FollowUp(cause="low_grade", cause_ref=f"matrix:{next(self.counter)}", response_id=self.response_id,
                          customer_id=self.org.customer, team_id=self.org.team_a, priority=2,
                          status="claimed" if claimed else "open", due_at=now + timedelta(days=2),
                          assignee_id=claimer if claimed else None, claimed_at=now if claimed else None)
            s.add(fu)
            s.flush()
            gesture_id = None
            if action == "approve":
                g = Gesture(followup_id=fu.id, team_id=self.org.team_a, user_id=claimer, kind="credit",
                            amount_cents=500_00, status="pending", at=now)
                s.add(g)
                s.flush()
                gesture_id = g.id
            return fu.id, gesture_id

    def effect(self, action: str, fid: int, gid: int | None) -> bool:
        """Did the action change the database as it should?"""
        with UnitOfWork(self.engine, readonly=True) as s:
            fu = s.get(FollowUp, fid)
            if action == "claim":
                return fu.status == "claimed"
            if action == "log_contact":
                return s.scalar(select(func.count()).select_from(FollowUpContact)
                                .where(FollowUpContact.followup_id == fid)) == 1
            if action == "spend":
                return s.scalar(select(Gesture.status).where(Gesture.followup_id == fid)) == "granted"
            if action == "close":
                return fu.status == "closed"
            if action == "approve":
                return s.get(Gesture, gid).status == "approved"
            if action == "manage_budgets":
                return s.scalar(select(RecoveryBudget.amount_cents).where(RecoveryBudget.team_id == self.org.team_b)) \
                    == 12_300
            if action == "manage_rules":
                rule = s.get(AlertRule, "detractor")
                return rule is not None and rule.threshold == 5
            return True


@pytest.fixture
def matrix(engine, org):
    return Matrix(engine, org)


def _api_call(client, m: Matrix, action: str, fid: int, gid: int | None):
    org = m.org
    if action == "list":
        return client.get(f"/api/v1/followups?team_id={org.team_a}")
    if action == "view":
        return client.get(f"/api/v1/followups/{fid}")
    if action == "view_verbatim":
        return client.get(f"/api/v1/followups/{fid}/verbatim")
    if action == "claim":
        return client.post(f"/api/v1/followups/{fid}/claim")
    if action == "log_contact":
        return client.post(f"/api/v1/followups/{fid}/contacts", json={"note": "Gebeld", "outcome": "explained"})
    if action == "spend":
        return client.post(f"/api/v1/followups/{fid}/gestures", json={"kind": "gift", "amount_cents": 1500})
    if action == "close":
        return client.post(f"/api/v1/followups/{fid}/close", json={"outcome": "resolved", "root_cause": "communication"})
    if action == "approve":
        return client.post(f"/api/v1/gestures/{gid}/decision", json={"approve": True})
    if action == "manage_budgets":
        return client.put("/api/v1/recovery-budgets", json={
            "team_id": org.team_b, "period_start": "2026-01-01", "period_end": "2026-12-31", "amount_cents": 12_300})
    if action == "manage_rules":
        return client.put("/api/v1/alert-rules/detractor", json={"enabled": True, "threshold": 5, "priority": 1})
    raise AssertionError(action)


def test_role_matrix_on_the_api(engine, org, matrix):
    keys = {}
    with UnitOfWork(engine) as s:
        for who in ROLES:
            user = s.get(User, org.users[who])  # every scope the role allows: what is tested here is the role
            keys[who] = org_service.create_api_key(s, f"key-{who}", created_by=user,
                                                   scopes=allowed_scopes(user.role)).key
        anonymous_key = org_service.create_api_key(s, "no-user", scopes=["read:metrics"]).key
    app = create_app(engine, Settings(secret_key="matrix-secret-" + "x" * 30))
    problems = []
    with TestClient(app) as client:
        for who in ROLES:
            client.headers["Authorization"] = f"Bearer {keys[who]}"
            for action, allowed in ALLOWED.items():
                fid, gid = matrix.followup(who, action)
                reply = _api_call(client, matrix, action, fid, gid)
                if who in allowed:
                    if reply.status_code not in (200, 201) or not matrix.effect(action, fid, gid):
                        problems.append(f"{who} {action}: expected success, got {reply.status_code} {reply.text[:200]}")
                    if action == "view_verbatim" and reply.json()["comment"] != COMMENT:
                        problems.append(f"{who} {action}: verbatim missing")
                elif reply.status_code != 403 or (action not in ("manage_budgets", "manage_rules")
                                                  and action not in ("list", "view", "view_verbatim")
                                                  and matrix.effect(action, fid, gid)):
                    problems.append(f"{who} {action}: expected 403, got {reply.status_code} {reply.text[:200]}")
        # an agent's plain list shows only their own team's follow-ups
        client.headers["Authorization"] = f"Bearer {keys['agent_b']}"
        assert client.get("/api/v1/followups").json() == []
        client.headers["Authorization"] = f"Bearer {anonymous_key}"
        assert client.get("/api/v1/followups").status_code == 403  # no read:followups, and no user
    assert problems == []


def _page_call(client, m: Matrix, action: str, fid: int, gid: int | None):
    org = m.org
    token = csrf_from(client.get("/").text)
    if action == "list":
        return client.get(f"/followups?team={org.team_a}")
    if action in ("view", "view_verbatim"):
        return client.get(f"/followups/{fid}")
    posts = {
        "claim": (f"/followups/{fid}/claim", {}),
        "log_contact": (f"/followups/{fid}/contact", {"note": "Gebeld", "outcome": "explained"}),
        "spend": (f"/followups/{fid}/gesture", {"kind": "gift", "amount": "15,00", "note": ""}),
        "close": (f"/followups/{fid}/close", {"outcome": "resolved", "root_cause": "communication"}),
        "approve": (f"/followups/gestures/{gid}/decide", {"approve": "1"}),
        "manage_budgets": ("/followups/settings/budget", {"owner": f"team:{org.team_b}", "period_start": "2026-01-01",
                                                           "period_end": "2026-12-31", "amount": "123"}),
        "manage_rules": ("/followups/settings/rule", {"key": "detractor", "enabled": "1", "threshold": "5",
                                                       "priority": "1", "due_working_days": "2"}),
    }
    path, data = posts[action]
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def test_role_matrix_on_the_pages(engine, org, matrix):
    app = create_app(engine, Settings(secret_key="matrix-secret-" + "x" * 30))
    problems = []
    for who in ROLES:
        with TestClient(app, base_url="http://testserver") as client:
            assert login(client, org.email(who)).status_code == 303
            for action, allowed in ALLOWED.items():
                fid, gid = matrix.followup(who, action)
                reply = _page_call(client, matrix, action, fid, gid)
                if who in allowed:
                    ok = reply.status_code in (200, 303) and matrix.effect(action, fid, gid)
                    if action == "view_verbatim":
                        ok = ok and COMMENT in reply.text
                    if not ok:
                        problems.append(f"{who} {action}: expected success, got {reply.status_code}")
                else:
                    refused = reply.status_code == 403 and ("Geen toegang" in reply.text or "403" in reply.text)
                    changed = action not in ("list", "view", "view_verbatim", "manage_budgets", "manage_rules") \
                        and matrix.effect(action, fid, gid)
                    if not refused or changed:
                        problems.append(f"{who} {action}: expected the refusal page, got {reply.status_code}")
    assert problems == []
