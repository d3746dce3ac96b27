"""Sweep H3-D: /metrics "By journey" shows no "(unknown)" row with a count beside three n = 0: answers outside
every journey that carry no NPS, grade or CES are a sentence under the table; with a score they are a named row."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import Response, SurveyVersion
from servicepulse.settings import Settings

from ..web.conftest import fast_password_hashing, login, make_user  # noqa: F401
from .conftest import build_small


def _journeys_section(html: str) -> str:
    return re.search(r'<section class="card" aria-labelledby="journeys">.*?</section>', html, flags=re.S)[0]


def _add(engine, n: int, **scores) -> None:
    with UnitOfWork(engine) as s:
        version = s.scalar(select(SurveyVersion))
        s.add_all([Response(survey_version_id=version.id, submitted_at=datetime(2026, 2, 1, 12, i, tzinfo=UTC),
                            **scores) for i in range(n)])


def test_answers_outside_every_journey_without_scores_are_a_sentence_not_a_row(engine, tmp_path, make_user):
    small = build_small(engine)
    _add(engine, 7)  # like the expectation survey: no NPS, grade or CES, no journey
    make_user("ana@example.org", role="analyst", language="nl")
    app = create_app(engine, Settings(secret_key="x" * 40, data_dir=tmp_path))
    with TestClient(app) as client:
        assert login(client, "ana@example.org").status_code == 303
        section = _journeys_section(client.get("/metrics").text)
        assert "(onbekend)" not in section and 'data-journey="None"' not in section
        assert re.findall(r'data-journey="([^"]+)"', section) == [str(small.journey_id)]
        assert re.search(r'id="journeys-other">Niet in de tabel: 7 antwoorden', section)
        _add(engine, 3, nps=9, grade=8)  # with scores they are figures: a named row, and no sentence
        section = _journeys_section(client.get("/metrics").text)
        assert 'data-journey="None"' in section and "Zonder klantreis" in section
        assert "journeys-other" not in section
