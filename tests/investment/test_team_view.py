"""/investment/teams: a team lead sees the cost to serve and the avoidable contact of their own teams' cases and
of no other team's (another team's id is "not found"); administrators see every team; agents nothing; the
figures equal a hand computation. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from tests.web.conftest import (  # noqa: F401  (fixtures)
    PASSWORD,
    app,
    client,
    csrf_from,
    fast_password_hashing,
    login,
    make_user,
    settings,
)

from servicepulse.db.session import UnitOfWork
from servicepulse.investment import service as investment_service
from servicepulse.models import Case, CaseEvent, Journey
from servicepulse.org import service

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    investment_service.clear_cache()
    yield
    investment_service.clear_cache()


def _build(engine) -> dict:
    """Team A handles case 1 (first call 10 min, a repeat call 5 min within the week: failure demand) and, with
    team B, case 3; team B alone handles case 2 (one call of 20 min). At 0.80 euro a minute (the default)."""
    with UnitOfWork(engine) as s:
        dept = service.create_unit(s, "d-service", "Service", kind="department")
        a = service.create_unit(s, "team-a", "Team Alfa", parent=dept)
        b = service.create_unit(s, "team-b", "Team Bravo", parent=dept)
        journey = Journey(key="j", name_nl="Storing", name_en="Fault")
        s.add(journey)
        s.flush()
        plan = {"1": [(0, a, 10.0), (30, a, 5.0)], "2": [(0, b, 20.0)], "3": [(0, a, 4.0), (50, b, 6.0)]}
        for key, steps in plan.items():
            case = Case(external_id=f"Z-{key}", journey_id=journey.id, opened_at=T0)
            s.add(case)
            s.flush()
            for i, (h, team, minutes) in enumerate(steps):
                s.add(CaseEvent(case_id=case.id, occurred_at=T0 + timedelta(hours=h), seq=i, activity="Call",
                                direction="inbound", channel="phone", customer_facing=True, team_id=team.id,
                                attributes={"handling_minutes": minutes}))
        service.create_user(s, "lead@example.org", "Lea", PASSWORD, "teamlead", lead_of=["team-a"])
        return {"A": a.id, "B": b.id}


def _rows(html: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r'<tr data-team="([^"]+)">(.*?)</tr>', html, re.S)}


def test_a_team_lead_sees_their_own_teams_only(engine, client, make_user):
    ids = _build(engine)
    assert login(client, "lead@example.org").status_code == 303
    page = client.get("/investment/teams?from=2026-03-01&to=2026-04-01")
    assert page.status_code == 200
    rows = _rows(page.text)
    assert list(rows) == ["Team Alfa"]
    # cases 1 and 3: 10 + 5 + 4 + 6 minutes at 0.80 = 20.00; A's own steps 19 minutes = 15.20; 2 cases
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', rows["Team Alfa"], re.S)
    text = [re.sub(r"<[^>]+>|&nbsp;", " ", c).split() for c in cells]
    assert text[0] == ["2"] and text[1] == ["€", "20"] and text[2] == ["€", "15"] and text[3] == ["€", "10,00"]
    # 4 contacts of which 2 are failure demand (case 1's repeat within the week, case 3's second call)
    assert text[4] == ["4"] and text[5] == ["50,0%"]
    assert "Team Bravo" not in page.text  # not even in the team choice
    assert client.get(f"/investment/teams?team={ids['B']}").status_code == 404
    assert client.get(f"/investment/teams?team={ids['A']}").status_code == 200
    assert client.get("/investment").status_code == 403  # the organisation-wide page stays with admin/analyst
    assert client.get("/investment/teams?team=x").status_code == 400


def test_administrators_see_every_team_and_agents_none(engine, client, make_user):
    _build(engine)
    make_user("admin@example.org", "admin", language="en")
    assert login(client, "admin@example.org").status_code == 303
    page = client.get("/investment/teams")
    assert page.status_code == 200
    assert list(_rows(page.text)) == ["Team Alfa", "Team Bravo"]
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    make_user("agent@example.org", "agent")
    assert login(client, "agent@example.org").status_code == 303
    assert client.get("/investment/teams").status_code == 403


def test_team_figures_equal_the_direct_computation(engine):
    ids = _build(engine)
    from servicepulse.settings import Settings

    with UnitOfWork(engine, readonly=True) as s:
        analysis = investment_service.contact_analysis(s, Settings())
    table = investment_service.team_table(analysis, [ids["A"], ids["B"]])
    assert table.loc[ids["A"], "cost"] == pytest.approx(25 * 0.8)
    assert table.loc[ids["B"], "cost"] == pytest.approx(30 * 0.8)  # case 2 and case 3
    assert table.loc[ids["B"], "own_cost"] == pytest.approx(26 * 0.8)
    assert table.loc[ids["A"], "failure"] == 2 and table.loc[ids["B"], "failure"] == 1
    assert list(table["cases"]) == [2, 2]
    assert len(analysis.contacts) == 5
