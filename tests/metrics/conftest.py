"""Fixtures for the insights and improvement tests: a small hand-made data set, the app with our routers, the demo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.models import (
    Answer,
    Case,
    Customer,
    Journey,
    Moment,
    OrgUnit,
    Response,
    Survey,
    SurveyVersion,
)
from tests.conftest import database_copy, demo_copy, engine_for
from tests.responses.conftest import WORLD_TEMPLATE, build_world
from tests.web.conftest import PASSWORD, csrf_from, fast_password_hashing, login, make_user, settings  # noqa: F401


@pytest.fixture
def app(engine, settings):  # noqa: F811
    from servicepulse.app import create_app

    return create_app(engine, settings)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@dataclass
class Small:
    """Ids of the hand-made data set and its rows as a frame (for independent computations)."""

    journey_id: int
    moment_ids: dict[str, int]
    team_ids: dict[str, int]
    frame: pd.DataFrame  # one row per response: submitted_at, nps, grade, ces, csat, channel, team, segment, m_*


def build_small(engine, n: int = 400, seed: int = 7, start=datetime(2026, 1, 1, tzinfo=UTC),
                days: int = 120) -> Small:
    """Random responses over ``days`` days with two graded moments; times spread over the whole day (UTC)."""
    rng = np.random.default_rng(seed)
    with UnitOfWork(engine) as s:
        journey = Journey(key="repair", name_nl="Reparatie", name_en="Repair")
        s.add(journey)
        s.flush()
        m_basic = Moment(journey_id=journey.id, key="call", position=1, name_nl="Bellen", name_en="Calling",
                         kind="functional", norm=7.0)
        m_truth = Moment(journey_id=journey.id, key="visit", position=2, name_nl="Bezoek", name_en="Visit",
                         kind="emotional", norm=9.0)
        teams = [OrgUnit(key="t-a", name="Team A"), OrgUnit(key="t-b", name="Team B")]
        survey = Survey(key="repair-end", name="Einde reparatie")
        s.add_all([m_basic, m_truth, *teams, survey])
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={})
        customers = [Customer(external_id=f"c{i}", segment=seg) for i, seg in enumerate(["consumer", "business", None])]
        s.add_all([version, *customers])
        s.flush()
        case = Case(external_id="k1", journey_id=journey.id)
        s.add(case)
        s.flush()
        rows, objects = [], []
        for _i in range(n):
            at = start + timedelta(minutes=int(rng.integers(0, days * 24 * 60)))
            ci = int(rng.integers(0, 3))
            ti = int(rng.integers(0, 3))  # 2: no team
            row = {
                "submitted_at": at, "nps": int(rng.integers(0, 11)) if rng.random() > 0.05 else None,
                "grade": int(rng.integers(1, 11)) if rng.random() > 0.05 else None,
                "ces": int(rng.integers(1, 8)) if rng.random() > 0.1 else None,
                "csat": int(rng.integers(1, 6)) if rng.random() > 0.2 else None,
                "channel": ["email", "sms"][int(rng.integers(0, 2))],
                "team": [teams[0].id, teams[1].id, None][ti], "segment": customers[ci].segment,
                "m_call": float(rng.integers(1, 11)) if rng.random() > 0.1 else None,
                "m_visit": float(rng.integers(1, 11)) if rng.random() > 0.3 else None,
                "moment_id": m_truth.id,
            }
            r = Response(survey_version_id=version.id, customer_id=customers[ci].id, case_id=case.id,
                         moment_id=m_truth.id, team_id=row["team"], channel=row["channel"], submitted_at=at,
                         nps=row["nps"], grade=row["grade"], ces=row["ces"], csat=row["csat"],
                         answers=[Answer(question_key=f"moment_{key}", value_num=row[f"m_{key}"])
                                  for key in ("call", "visit") if row[f"m_{key}"] is not None])
            objects.append(r)
            rows.append(row)
        s.add_all(objects)
        s.flush()
        for row, r in zip(rows, objects):
            row["id"] = r.id
        return Small(journey.id, {"call": m_basic.id, "visit": m_truth.id},
                     {"a": teams[0].id, "b": teams[1].id}, pd.DataFrame(rows))


SMALL_TEMPLATE = "metrics-small"


@pytest.fixture
def engine(request, templates):
    """Tests that take `small` get a fresh copy of a database holding it (built once per run and backend,
    not once per test); the others get the usual `engine`."""
    if "small" in request.fixturenames:
        with database_copy(templates, SMALL_TEMPLATE, build_small) as (copy, _):
            yield copy
    elif "world" in request.fixturenames:  # tests/responses/conftest.py's world, built once as well
        with database_copy(templates, WORLD_TEMPLATE, build_world) as (copy, _):
            yield copy
    else:
        with engine_for(request, templates) as e:
            yield e


@pytest.fixture
def small(engine, templates) -> Small:
    """The hand-made data set in `engine` (its frame unpickled afresh for each test)."""
    return templates.ensure(SMALL_TEMPLATE, build_small)


SMALL_DEMO_SEED = 2026  # the small demo the metrics tests read (built once per run and backend)


@pytest.fixture(scope="module")
def generated():
    """What the demo generator put into the small demo: the causes the analyses must recover."""
    from servicepulse.demo.generate import generate

    return generate("small", SMALL_DEMO_SEED)


@pytest.fixture(scope="module")
def demo_engine(templates):
    """A copy of the small demo for the module's read-only tests."""
    with demo_copy(templates, "small", SMALL_DEMO_SEED) as (engine, _):
        yield engine
