"""Fixtures for least privilege and sessions: two teams with their own comments, cases and signals,
a user of every role, API keys with chosen scopes, and a clock the app's sessions follow."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, OrgUnit, Response, Survey, SurveyVersion, TeamMembership, User
from servicepulse.models.expectations import Signal, SignalRule
from servicepulse.org import service as org_service

from ..conftest import database_copy
from ..expectations.helpers import event, ingest
from ..web.conftest import PASSWORD, app, client, csrf_from, fast_password_hashing, login, settings  # noqa: F401

COMMENT_A = "Team A comment: the engineer was on time"
COMMENT_B = "Team B comment: nobody called me back"


@dataclass
class World:
    team_a: int
    team_b: int
    users: dict[str, int]  # who -> user id
    signal_a: int
    signal_b: int
    emails: dict[str, str] = field(default_factory=dict)


WHO = {  # who: (role, teams, led teams)
    "admin": ("admin", [], []),
    "analyst": ("analyst", [], []),
    "lead_a": ("teamlead", [], ["A"]),
    "agent_a": ("agent", ["A"], []),
    "agent_b": ("agent", ["B"], []),
    "agent_none": ("agent", [], []),
}


@pytest.fixture
def seeded(templates):
    """(engine, World) on a fresh copy of the two-team world, built once per run and database."""
    with database_copy(templates, "access-world", _build_world) as pair:
        yield pair


@pytest.fixture
def engine(seeded):  # noqa: F811 - every test here starts in the world
    return seeded[0]


@pytest.fixture
def world(seeded) -> World:
    return seeded[1]


def _build_world(engine) -> World:
    ingest(engine, [event("CASE-A", 0, "Customer calls", direction="inbound", facing=True, team="Team A"),
                    event("CASE-B", 0, "Customer calls", direction="inbound", facing=True, team="Team B")])
    with UnitOfWork(engine) as s:
        teams = {u.name: u for u in s.scalars(select(OrgUnit).where(OrgUnit.name.in_(["Team A", "Team B"])))}
        team_a, team_b = teams["Team A"], teams["Team B"]
        team_a.key, team_b.key = "team_a", "team_b"
        users = {}
        for who, (role, member, lead) in WHO.items():
            keys = {"A": "team_a", "B": "team_b"}
            user = org_service.create_user(s, f"{who}@example.org", who.replace("_", " ").title(), PASSWORD, role,
                                           teams=[keys[t] for t in member], lead_of=[keys[t] for t in lead],
                                           language="en")
            users[who] = user.id
        survey = Survey(key="service", name="Service")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={"questions": []})
        s.add(version)
        s.flush()
        now = datetime.now(UTC)
        s.add_all([Response(external_id="R-A", survey_version_id=version.id, team_id=team_a.id, submitted_at=now,
                            comment=COMMENT_A, nps=9),
                   Response(external_id="R-B", survey_version_id=version.id, team_id=team_b.id,
                            submitted_at=now - timedelta(minutes=1), comment=COMMENT_B, nps=2)])
        rule = SignalRule(key="test_rule", kind="dark_too_long", params={})
        s.add(rule)
        s.flush()
        cases = dict(s.execute(select(Case.external_id, Case.id)).all())
        sig_a = Signal(rule_id=rule.id, case_id=cases["CASE-A"], team_id=team_a.id, cause_key="a", fired_at=now)
        sig_b = Signal(rule_id=rule.id, case_id=cases["CASE-B"], team_id=team_b.id, cause_key="b", fired_at=now)
        s.add_all([sig_a, sig_b])
        s.flush()
        return World(team_a.id, team_b.id, users, sig_a.id, sig_b.id,
                     {who: f"{who}@example.org" for who in WHO})


def make_key(engine, who: str | None, scopes, name: str | None = None) -> str:
    """A key acting for `who` (None: an installation key) with `scopes` (None: the default)."""
    with UnitOfWork(engine) as s:
        user = s.scalar(select(User).where(User.email == f"{who}@example.org")) if who else None
        return org_service.create_api_key(s, name or f"key-{who}-{len(scopes or [])}", created_by=user,
                                          scopes=scopes).key


class Clock:
    """The app's clock (app.state.clock): starts now, moved by tests."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app) -> Clock:
    app.state.clock = Clock()
    return app.state.clock


def member(engine, who: str, team_id: int) -> None:
    with UnitOfWork(engine) as s:
        user = s.scalar(select(User).where(User.email == f"{who}@example.org"))
        s.add(TeamMembership(user_id=user.id, team_id=team_id))
