"""A small organisation for the closed loop: one department with teams A and B, a user of every
role, a journey whose moment belongs to the department, a customer with a case, and responses
stored through the real ingestion service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.followups.access import Actor
from servicepulse.models import Case, Customer, Journey, Moment, User
from servicepulse.models.followups import RootCause
from servicepulse.org import service as org_service
from servicepulse.responses.service import ingest
from servicepulse.surveys import load_template
from tests.web.conftest import PASSWORD, csrf_from, fast_password_hashing, login  # noqa: F401

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
PERIOD = (date(2026, 3, 1), date(2026, 3, 31))


@dataclass
class Org:
    team_a: int
    team_b: int
    department: int
    journey: int
    moment: int
    customer: int
    case: int
    users: dict[str, int]  # admin, analyst, lead, agent_a, agent_b

    def email(self, who: str) -> str:
        return f"{who.replace('_', '-')}@example.org"


def build_org(engine) -> Org:
    with UnitOfWork(engine) as s:
        dept = org_service.create_unit(s, "dept-cs", "Klantenservice", kind="department")
        team_a = org_service.create_unit(s, "team-a", "Team A", parent=dept, line="front")
        team_b = org_service.create_unit(s, "team-b", "Team B", parent=dept, line="front")
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Contact", name_en="Contact",
                                      kind="functional", norm=7.0, department_id=dept.id))
        s.add(journey)
        s.flush()
        customer = Customer(external_id="C-1", language="nl", email="klant@example.org", name="Klant Een")
        s.add(customer)
        s.flush()
        case = Case(external_id="K-1", customer_id=customer.id, journey_id=journey.id, last_team_id=team_b.id,
                    opened_at=NOW)
        s.add(case)
        s.add_all([RootCause(journey_id=journey.id, key="billing_error", label_nl="Fout in de factuur",
                             label_en="Billing error"),
                   RootCause(journey_id=None, key="communication", label_nl="Communicatie",
                             label_en="Communication")])
        load_template(s, "after_contact")
        users = {}
        for who, role, teams, lead in [("admin", "admin", [], []), ("analyst", "analyst", [], []),
                                       ("lead", "teamlead", [], ["team-a"]), ("agent_a", "agent", ["team-a"], []),
                                       ("agent_a2", "agent", ["team-a"], []), ("agent_b", "agent", ["team-b"], [])]:
            u = org_service.create_user(s, f"{who.replace('_', '-')}@example.org", who.replace("_", " ").title(),
                                        PASSWORD, role, teams=teams, lead_of=lead)
            users[who] = u.id
        s.flush()
        return Org(team_a.id, team_b.id, dept.id, journey.id, journey.moments[0].id, customer.id, case.id, users)


@pytest.fixture
def org(engine) -> Org:
    return build_org(engine)


def actor(engine, user_id: int) -> Actor:
    with UnitOfWork(engine, readonly=True) as s:
        return Actor.of(s.get(User, user_id))


def add_response(engine, external_id: str, *, ces: int = 6, grade: int = 8, why: str = "Snel geholpen",
                 case: str | None = None, now: datetime = NOW, customer: str = "C-1") -> int:
    item = {"external_id": external_id, "survey": "after_contact", "customer": customer,
            "submitted_at": now.isoformat(), "language": "nl", "answers": {"ces": ces, "grade": grade, "why": why}}
    if case:
        item["case"] = case
    with UnitOfWork(engine) as s:
        return ingest(s, item, now=now).new_response_ids[0]


@pytest.fixture
def sqlite_only(backend):
    """Browser tests run once (SQLite): the PostgreSQL behaviour is covered by the service and API tests."""
    if backend != "sqlite":
        pytest.skip("browser test runs on SQLite only")
