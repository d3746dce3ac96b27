"""Helpers for the verbatim tests: a survey and responses with comments, written straight to the tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.models import OrgUnit, Response, Survey, SurveyVersion

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_survey(engine, key: str = "after-contact") -> int:
    with UnitOfWork(engine) as s:
        survey = Survey(key=key, name="Na contact")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={"questions": []})
        s.add(version)
        s.flush()
        return version.id


def add_responses(engine, rows: list[dict], version_id: int | None = None) -> list[int]:
    """rows: dicts with comment and optionally nps/grade/ces/moment_id/language/submitted_at (default: a day apart)."""
    version_id = version_id or add_survey(engine)
    with UnitOfWork(engine) as s:
        ids = []
        for i, r in enumerate(rows):
            resp = Response(survey_version_id=version_id, submitted_at=r.get("submitted_at", T0 + timedelta(days=i)),
                            **{k: v for k, v in r.items() if k != "submitted_at"})
            s.add(resp)
            s.flush()
            ids.append(resp.id)
        return ids


def add_department(engine, key: str, name: str) -> int:
    with UnitOfWork(engine) as s:
        unit = OrgUnit(key=key, name=name, kind="department")
        s.add(unit)
        s.flush()
        return unit.id


@pytest.fixture
def survey_version(engine) -> int:
    return add_survey(engine)


# Page fixtures of the web shell (app on the `engine` database, users, cheap argon2).
from tests.web.conftest import PASSWORD as PASSWORD_FOR_TESTS  # noqa: E402,F401
from tests.web.conftest import app, client, csrf_from, fast_password_hashing, login, make_user, settings  # noqa: E402,F401
