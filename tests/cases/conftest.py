"""Fixtures for the cases domain: a journey with moments and teams, an API client with a key,
the CLI on the `engine` fixture's database, and reading stored events back as a kernel frame."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, CaseEvent, Journey, Moment, OrgUnit
from servicepulse.models.cases import CaseFacts
from servicepulse.settings import Settings, get_settings


@pytest.fixture
def world(engine):
    with UnitOfWork(engine) as s:
        journey = Journey(key="fault_repair", name_nl="Storing", name_en="Fault repair")
        journey.moments.append(Moment(key="report", position=1, name_nl="Melden", name_en="Report",
                                      kind="functional", norm=7.0))
        journey.moments.append(Moment(key="visit", position=2, name_nl="Monteur", name_en="Engineer visit",
                                      kind="emotional", norm=9.0))
        s.add_all([journey, OrgUnit(key="front_office", name="Front Office", kind="team", line="front"),
                   OrgUnit(key="back_office", name="Back Office", kind="team", line="back")])
        s.flush()
        return {m.key: m.id for m in journey.moments} | {"journey": journey.id}


@pytest.fixture
def api(engine, tmp_path):
    from servicepulse.app import create_app
    from servicepulse.org import service as org_service

    settings = Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path)
    with UnitOfWork(engine) as s:
        token = org_service.create_api_key(s, "tests", scopes=org_service.INSTALLATION_SCOPES).key
    with TestClient(create_app(engine, settings), base_url="http://testserver",
                    headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def cli(engine, monkeypatch, tmp_path):
    """cli(*args) -> click Result, running `servicepulse` on the test database."""
    from servicepulse.cli import app

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", url)
    monkeypatch.setenv("SERVICEPULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SERVICEPULSE_SECRET_KEY", "cli-test-secret-" + "x" * 32)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str):
        get_settings.cache_clear()
        try:
            return runner.invoke(app, list(args))
        finally:
            get_settings.cache_clear()

    return run


def counts(engine) -> tuple[int, int, int]:
    with UnitOfWork(engine, readonly=True) as s:
        return (s.scalar(select(func.count()).select_from(CaseEvent)), s.scalar(select(func.count()).select_from(Case)),
                s.scalar(select(func.count()).select_from(CaseFacts)))


def stored_frame(engine) -> pd.DataFrame:
    """Stored events as a kernel frame (case external id), in insertion order."""
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Case.external_id, CaseEvent.activity, CaseEvent.occurred_at, CaseEvent.actor,
                                CaseEvent.external_id).join(Case, Case.id == CaseEvent.case_id)
                         .order_by(CaseEvent.id)).all()
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "resource", "event_id"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    frame["file_order"] = range(len(frame))
    return frame
