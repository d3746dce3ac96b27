"""Fixtures for response ingestion: a journey with moments, surveys from the shipped templates,
a team, customers and cases, and the API app with a key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Customer, Journey, Moment, OrgUnit
from servicepulse.org import service as org_service
from servicepulse.settings import Settings
from servicepulse.surveys import load_template
from tests.conftest import engine_seeded_if


@dataclass
class World:
    team_id: int
    other_team_id: int
    moment_id: int
    customer_id: int
    case_id: int


def build_world(engine) -> World:
    with UnitOfWork(engine) as s:
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Contact", name_en="Contact",
                                      kind="functional", norm=7.0))
        journey.moments.append(Moment(key="case_resolved", position=2, name_nl="Opgelost", name_en="Resolved",
                                      kind="emotional", norm=9.0))
        relationship = Journey(key="relationship", name_nl="Relatie", name_en="Relationship")
        relationship.moments.append(Moment(key="journey_end", position=1, name_nl="Einde", name_en="End",
                                           kind="emotional", norm=9.0))
        team = OrgUnit(key="team-a", name="Team A", kind="team")
        other = OrgUnit(key="team-b", name="Team B", kind="team")
        customer = Customer(external_id="C-1", language="nl")
        s.add_all([journey, relationship, team, other, customer])
        s.flush()
        case = Case(external_id="K-1", customer_id=customer.id, last_team_id=team.id)
        s.add(case)
        s.add(Customer(external_id="C-2", language="en"))
        s.flush()
        load_template(s, "after_contact")
        load_template(s, "case_resolved")
        load_template(s, "relationship")
        return World(team.id, other.id, journey.moments[0].id, customer.id, case.id)


WORLD_TEMPLATE = "responses-world"


@pytest.fixture
def engine(request, templates):  # noqa: F811
    """A test that takes `world` starts on a copy of the world's database (built once per run and
    database); the others get the usual empty one."""
    with engine_seeded_if(request, templates, "world", WORLD_TEMPLATE, build_world) as e:
        yield e


@pytest.fixture
def world(engine, templates) -> World:
    return templates.ensure(WORLD_TEMPLATE, build_world)


def response(external_id="R-1", survey="after_contact", customer="C-1", **overrides) -> dict:
    item = {"external_id": external_id, "survey": survey, "customer": customer,
            "submitted_at": "2026-03-02T10:15:00+01:00", "language": "nl",
            "answers": {"ces": 6, "grade": 8, "why": "Snel geholpen"}}
    item.update(overrides)
    return item


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, organisation_name="Testbedrijf")


@pytest.fixture
def api_key(engine) -> str:
    with UnitOfWork(engine) as s:
        return org_service.create_api_key(s, "tests", scopes=org_service.INSTALLATION_SCOPES).key


@pytest.fixture
def api(engine, settings, world, api_key):
    from servicepulse.app import create_app

    with TestClient(create_app(engine, settings), base_url="http://testserver") as client:
        client.headers["Authorization"] = f"Bearer {api_key}"
        yield client


@pytest.fixture
def settings_(settings) -> Settings:
    """The same settings under a name that does not clash with hypothesis.settings in test modules."""
    return settings
