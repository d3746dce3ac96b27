"""The expectations dashboard can be scoped to one team (#16 item 5): its promises, its signals, its cases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Integer, func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations import kept_rate
from servicepulse.models import OrgUnit, Promise, TeamMembership

from ..web.conftest import login
from .test_demo_promises import DEMO_END


@pytest.mark.demo("tiny", 11)
def test_a_team_sees_its_own_promises_and_signals(engine, client, make_user):
    with UnitOfWork(engine, readonly=True) as s:
        team_id, team_name, kept, broken = s.execute(
            select(OrgUnit.id, OrgUnit.name, func.sum((Promise.status == "kept").cast(Integer)),
                   func.sum((Promise.status == "broken").cast(Integer)))
            .join(Promise, Promise.made_by_team_id == OrgUnit.id).where(Promise.status != "open")
            .group_by(OrgUnit.id, OrgUnit.name).order_by(func.count().desc()).limit(1)).one()
        other = s.scalar(select(OrgUnit.id).where(OrgUnit.kind == "team", OrgUnit.id != team_id).limit(1))
        rows = kept_rate.kept_rates(s, "team", team_id=team_id)
    assert [(r.group, r.kept, r.broken) for r in rows] == [(team_name, kept, broken)]  # an independent count
    lead = make_user("lead@example.org", role="teamlead", language="en")
    with UnitOfWork(engine) as s:
        s.add(TeamMembership(user_id=lead, team_id=team_id, is_lead=True))
    login(client, "lead@example.org")
    at = (DEMO_END - timedelta(days=3)).isoformat()
    html = client.get("/expectations", params={"team": team_id, "at": at}).text
    assert re.search(rf'<li class="chip">Team: <strong>{re.escape(team_name)}</strong>', html)
    assert f'<option value="{team_id}" selected>' in html and f'<option value="{other}"' not in html
    assert client.get("/expectations", params={"team": other}).status_code == 404  # not the lead's team

