"""Bad input through the API: concurrent claims (requests in threads), closing twice, spending over
budget, a claim from outside the team: a clear refusal each, and consistent data afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts
from servicepulse.models import FollowUp, Gesture, User, utcnow
from servicepulse.models.followups import AlertRouting, RecoveryBudget
from servicepulse.org import allowed_scopes
from servicepulse.org import service as org_service
from servicepulse.settings import Settings

from .conftest import add_response


@pytest.fixture
def api(engine, org):
    with UnitOfWork(engine) as s:
        s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
        today = utcnow().date()
        s.add(RecoveryBudget(team_id=org.team_a, period_start=today - timedelta(days=5),
                             period_end=today + timedelta(days=5), amount_cents=20_00))
        keys = {who: org_service.create_api_key(s, who, created_by=s.get(User, uid),
                                                scopes=allowed_scopes(s.get(User, uid).role)).key
                for who, uid in org.users.items()}
    add_response(engine, "R-1", ces=6, grade=3, why="", now=utcnow())
    with UnitOfWork(engine) as s:
        (fid,) = alerts.evaluate_responses(s, None, utcnow())
    app = create_app(engine, Settings(secret_key="api-followups-" + "x" * 30))

    def client(who: str) -> TestClient:
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {keys[who]}"
        return c

    return client, fid


def test_two_people_claiming_at_the_same_moment_over_http(engine, api):
    client, fid = api
    clients = [client("agent_a"), client("agent_a2")]
    barrier = threading.Barrier(2)
    replies = [None, None]

    def claim(i):
        barrier.wait()
        replies[i] = clients[i].post(f"/api/v1/followups/{fid}/claim")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 409], [r.text for r in replies]
    loser = next(r for r in replies if r.status_code == 409)
    assert "claimed already by" in loser.json()["detail"]
    winner = next(r for r in replies if r.status_code == 200).json()["assignee_id"]
    with UnitOfWork(engine, readonly=True) as s:
        fu = s.get(FollowUp, fid)
        assert (fu.status, fu.assignee_id, fu.version) == ("claimed", winner, 2)


def test_refusals_are_clear_and_change_nothing(engine, api):
    client, fid = api
    agent, outsider = client("agent_a"), client("agent_b")
    reply = outsider.post(f"/api/v1/followups/{fid}/claim")
    assert reply.status_code == 403 and "another team" in reply.json()["detail"]
    assert agent.post(f"/api/v1/followups/{fid}/claim").status_code == 200

    over = agent.post(f"/api/v1/followups/{fid}/gestures", json={"kind": "credit", "amount_cents": 25_00})
    assert over.status_code == 409 and "€ 25,00 does not fit" in over.json()["detail"]
    bad = agent.post(f"/api/v1/followups/{fid}/gestures", json={"kind": "cash", "amount_cents": -1})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"kind", "amount_cents"}

    assert agent.post(f"/api/v1/followups/{fid}/close", json={"outcome": "resolved",
                                                              "root_cause": "communication"}).status_code == 200
    again = agent.post(f"/api/v1/followups/{fid}/close", json={"outcome": "explained",
                                                               "root_cause": "billing_error"})
    assert again.status_code == 409 and "closed already" in again.json()["detail"]
    with UnitOfWork(engine, readonly=True) as s:
        fu = s.get(FollowUp, fid)
        assert (fu.status, fu.outcome, fu.root_cause) == ("closed", "resolved", "communication")
        assert s.scalar(select(func.count()).select_from(Gesture)) == 0
    missing = agent.get("/api/v1/followups/999999")
    assert missing.status_code == 404
    dashboard = client("lead").get("/api/v1/followups-dashboard").json()
    assert dashboard["by_status"] == {"closed": 1} and dashboard["closed_loop_rate"] == 1.0


def test_a_follow_up_lists_its_reasons_over_the_api(engine, api):
    client, fid = api
    reply = client("agent_a").get(f"/api/v1/followups/{fid}")
    assert reply.status_code == 200
    reasons = reply.json()["reasons"]
    assert [(r["rule"], r["summary"], r["ref"].startswith("response:")) for r in reasons] == [("low_grade", "grade 3", True)]
    listed = client("agent_a").get("/api/v1/followups").json()
    assert [f["reasons"][0]["rule"] for f in listed if f["id"] == fid] == ["low_grade"]

