"""Least privilege on pages and API routes: agents (and team leads on team work) see their own
teams' comments, cases and signals only; administrators and analysts see every team."""

from __future__ import annotations

from fastapi.testclient import TestClient

from servicepulse.db.session import UnitOfWork
from servicepulse.models.expectations import Signal

from .conftest import COMMENT_A, COMMENT_B, login, make_key


def _as(client: TestClient, who: str) -> TestClient:
    client.cookies.clear()
    assert login(client, f"{who}@example.org").status_code == 303
    return client


def test_survey_page_shows_an_agent_only_their_own_teams_comments(client, world):
    page = _as(client, "agent_a").get("/surveys/service")
    assert page.status_code == 200
    assert COMMENT_A in page.text and COMMENT_B not in page.text
    assert COMMENT_B in _as(client, "agent_b").get("/surveys/service").text
    assert COMMENT_A not in _as(client, "agent_b").get("/surveys/service").text
    lonely = _as(client, "agent_none").get("/surveys/service").text
    assert COMMENT_A not in lonely and COMMENT_B not in lonely  # in no team: no team's comments
    for reader in ("admin", "analyst"):
        text = _as(client, reader).get("/surveys/service").text
        assert COMMENT_A in text and COMMENT_B in text


def test_an_agent_cannot_open_another_teams_case(client, world):
    agent = _as(client, "agent_a")
    assert agent.get("/expectations/cases/CASE-A").status_code == 200
    other = agent.get("/expectations/cases/CASE-B")
    assert other.status_code == 404  # as if it did not exist
    assert _as(client, "agent_none").get("/expectations/cases/CASE-A").status_code == 404
    assert _as(client, "analyst").get("/expectations/cases/CASE-B").status_code == 200


def test_a_team_lead_sees_the_case_pages_of_their_own_teams(client, world):
    lead = _as(client, "lead_a")
    assert lead.get("/cases/CASE-A").status_code == 200
    assert lead.get("/cases/CASE-B").status_code == 404
    listing = lead.get("/cases").text
    assert "CASE-A" in listing and "CASE-B" not in listing
    admin_listing = _as(client, "admin").get("/cases").text
    assert "CASE-A" in admin_listing and "CASE-B" in admin_listing


def test_an_agent_cannot_resolve_another_teams_signal(engine, client, world):
    agent = _as(client, "agent_a")
    page = agent.get("/expectations/signals")
    assert ">CASE-A<" in page.text and ">CASE-B<" not in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = agent.post(f"/expectations/signals/{world.signal_b}/resolve", data={"csrf_token": token},
                         follow_redirects=False)
    assert refused.status_code == 404
    assert agent.get(f"/expectations/signals?team={world.team_b}").status_code == 404
    done = agent.post(f"/expectations/signals/{world.signal_a}/resolve", data={"csrf_token": token},
                      follow_redirects=False)
    assert done.status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(Signal, world.signal_b).resolved_at is None
        assert s.get(Signal, world.signal_a).resolved_at is not None
    # an agent in no team sees no signals (it used to fall back to every team's)
    assert ">CASE-B<" not in _as(client, "agent_none").get("/expectations/signals").text


def test_api_keys_read_cases_and_responses_of_their_users_teams_only(engine, client, world):
    def get(key, path):
        return client.get("/api/v1" + path, headers={"Authorization": f"Bearer {key}"})

    agent = make_key(engine, "agent_a", ["read:cases"])
    assert get(agent, "/cases/CASE-A").status_code == 200
    assert get(agent, "/cases/CASE-B").status_code == 404
    assert get(agent, "/cases/CASE-B/timeline").status_code == 404
    assert get(agent, "/cases/CASE-B/promises").status_code == 404
    assert get(agent, "/cases/CASE-B/forecast").status_code == 404
    assert get(agent, "/cases/CASE-A/timeline").status_code == 200
    lead = make_key(engine, "lead_a", ["read:responses", "read:cases"])
    assert get(lead, "/responses/R-A").status_code == 200
    assert get(lead, "/responses/R-B").status_code == 404
    analyst = make_key(engine, "analyst", ["read:responses", "read:cases"])
    assert get(analyst, "/responses/R-B").status_code == 200 and get(analyst, "/cases/CASE-B").status_code == 200


def test_the_at_risk_list_shows_a_team_lead_their_own_teams_cases(client, world):
    everyone = _as(client, "analyst").get("/expectations").text
    assert "CASE-A" in everyone and "CASE-B" in everyone  # both open and silent for long
    lead = _as(client, "lead_a").get("/expectations").text
    assert "CASE-A" in lead and "CASE-B" not in lead
