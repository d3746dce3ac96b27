"""A small organisation with two teams, a user of every role, one journey moment (norm 8) whose survey asks
NPS, grade and CES, and responses in two consecutive weeks and months written through the real ingestion
service; settings point at a real SMTP server on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Customer, Journey, Moment
from servicepulse.org import service as org_service
from servicepulse.responses.service import ingest
from servicepulse.settings import get_settings
from servicepulse.surveys import create_or_update_survey
from tests.invitations.support import configure, start_smtp
from tests.web.conftest import PASSWORD, csrf_from, fast_password_hashing, login  # noqa: F401

from ..cli.conftest import cli  # noqa: F401

BASE = "http://servicepulse.test"
# Monday 30 November 2026, 07:30 in Amsterdam: the week of 23-29 November has ended and its send hour passed.
WEEKLY_NOW = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
# Tuesday 1 December 2026, 08:00 in Amsterdam: November's digest is due.
MONTHLY_NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
SUBSCRIBED_AT = datetime(2026, 10, 1, tzinfo=UTC)

# (team, day, nps, grade, ces) per answer: the previous and the current week (both in November), and October.
PREVIOUS_WEEK = [("A", datetime(2026, 11, 17, 10, tzinfo=UTC), nps, grade, ces)
                 for nps, grade, ces in [(3, 5, 3)] * 14 + [(7, 7, 4)] * 12 + [(9, 8, 5)] * 8]
CURRENT_WEEK = [("A", datetime(2026, 11, 25, 10, tzinfo=UTC), nps, grade, ces)
                for nps, grade, ces in [(4, 6, 4)] * 4 + [(8, 7, 5)] * 10 + [(10, 9, 7)] * 22] + \
               [("B", datetime(2026, 11, 26, 10, tzinfo=UTC), nps, grade, ces)
                for nps, grade, ces in [(6, 6, 3)] * 10 + [(9, 8, 6)] * 25]
OCTOBER = [("A", datetime(2026, 10, 14, 10, tzinfo=UTC), nps, grade, ces)
           for nps, grade, ces in [(2, 4, 2)] * 20 + [(8, 7, 5)] * 15 + [(9, 8, 6)] * 10]
ALL = PREVIOUS_WEEK + CURRENT_WEEK + OCTOBER
# The journey-end survey: NPS, grade, CES and a grade per moment (first contact: grade + 1, above its norm 7;
# the repair: the grade itself, below its norm 8 in November).
SURVEY = {"key": "service-end", "name": "Service: na afloop", "moment": "service/repair", "languages": ["nl", "en"],
          "title": {"nl": "Hoe ging het?", "en": "How did it go?"},
          "questions": [{"key": "nps", "type": "nps"}, {"key": "grade", "type": "grade"}, {"key": "ces", "type": "ces"},
                        {"key": "moment_contact", "type": "grade",
                         "text": {"nl": "Cijfer voor het eerste contact?", "en": "Mark for the first contact?"}},
                        {"key": "moment_repair", "type": "grade",
                         "text": {"nl": "Cijfer voor de reparatie?", "en": "Mark for the repair?"}}]}


@dataclass
class World:
    team_a: int
    team_b: int
    users: dict[str, int]


def build_world(engine) -> World:
    with UnitOfWork(engine) as s:
        dept = org_service.create_unit(s, "dept-cs", "Klantenservice", kind="department")
        team_a = org_service.create_unit(s, "team-a", "Team A", parent=dept, line="front")
        team_b = org_service.create_unit(s, "team-b", "Team B", parent=dept, line="back")
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Eerste contact", name_en="First contact",
                                      kind="functional", norm=7.0, department_id=dept.id))
        journey.moments.append(Moment(key="repair", position=2, name_nl="Reparatie", name_en="Repair",
                                      kind="functional", norm=8.0, department_id=dept.id))
        s.add(journey)
        s.flush()
        create_or_update_survey(s, SURVEY)
        for team, unit in (("A", team_a), ("B", team_b)):
            customer = Customer(external_id=f"C-{team}", language="nl", email=f"klant-{team}@example.org",
                                name=f"Klant {team}")
            s.add(customer)
            s.flush()
            s.add(Case(external_id=f"K-{team}", customer_id=customer.id, journey_id=journey.id,
                       last_team_id=unit.id, opened_at=datetime(2026, 10, 1, tzinfo=UTC)))
        users = {}
        for who, role, language, teams, lead in [
                ("admin", "admin", "nl", [], []), ("analyst", "analyst", "en", [], []),
                ("lead", "teamlead", "en", [], ["team-a"]), ("agent-a", "agent", "en", ["team-a"], []),
                ("agent-a2", "agent", "nl", ["team-a"], []), ("agent-b", "agent", "nl", ["team-b"], [])]:
            user = org_service.create_user(s, f"{who}@example.org", who.replace("-", " ").title(), PASSWORD, role,
                                           teams=teams, lead_of=lead, language=language)
            users[who] = user.id
        s.flush()
        world = World(team_a.id, team_b.id, users)
    items = []
    for i, (team, at, nps, grade, ces) in enumerate(ALL):
        items.append({"external_id": f"R-{i}", "survey": "service-end", "customer": f"C-{team}", "case": f"K-{team}",
                      "submitted_at": (at + timedelta(minutes=i)).isoformat(), "language": "nl",
                      "answers": {"nps": nps, "grade": grade, "ces": ces, "moment_contact": min(10, grade + 1),
                                  "moment_repair": grade}})
    with UnitOfWork(engine) as s:
        ingest(s, items, now=MONTHLY_NOW, notify=False, alerts=False)
    return world


@pytest.fixture
def world(engine) -> World:
    return build_world(engine)


@pytest.fixture
def smtp(monkeypatch):
    controller, server = start_smtp()
    configure(monkeypatch, server, base_url=BASE)
    monkeypatch.setenv("SERVICEPULSE_ORGANISATION_NAME", "Glasvezel Noord")
    get_settings.cache_clear()
    yield server
    controller.stop()
    get_settings.cache_clear()


@pytest.fixture
def app(engine, smtp):
    """The app on the same settings the jobs read (so the unsubscribe token's key is the same)."""
    return create_app(engine, get_settings())


__all__ = ["csrf_from", "login"]
