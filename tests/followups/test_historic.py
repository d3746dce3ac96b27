"""Imports of historic answers open no follow-ups: the CSV import and a batch through the API do not run the
alert rules unless asked (--alerts, ?alerts=true), and even then only answers younger than the alert age
limit alert. 100,000 generated historic answers through the CSV import (SQLite) open none."""

from __future__ import annotations

import csv
import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts
from servicepulse.jobs.queue import run_pending
from servicepulse.models import FollowUp, FollowUpReason, Job, Response, User
from servicepulse.org import allowed_scopes
from servicepulse.org import service as org_service
from servicepulse.responses import csv_import
from servicepulse.settings import Settings

from .conftest import NOW

HEADER = ["external_id", "customer", "submitted_at", "ces", "grade", "resolved", "why"]


def _write_csv(path, n: int, *, step: timedelta, seed: int = 16) -> int:
    """``n`` answers going back from NOW in steps of ``step``, about half of them alerting; returns how many
    would alert (grade <= 5 or CES <= 3), counted here, apart from the rules."""
    rng = random.Random(seed)
    alerting = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(n):
            ces, grade = rng.randint(1, 7), rng.randint(1, 10)
            alerting += grade <= 5 or ces <= 3
            out.writerow([f"H-{i}", f"HC-{i % 20_000}", (NOW - step * i).isoformat(), ces, grade,
                          rng.choice(["yes", "partly", "no"]), ""])
    return alerting


def _counts(engine) -> tuple[int, int, int]:
    with UnitOfWork(engine, readonly=True) as s:
        return (s.scalar(select(func.count()).select_from(Response)),
                s.scalar(select(func.count()).select_from(Job).where(Job.kind == alerts.EVALUATE_JOB)),
                s.scalar(select(func.count()).select_from(FollowUp)))


def test_importing_100000_historic_answers_opens_no_follow_up(engine, backend, org, tmp_path):
    if backend != "sqlite":
        pytest.skip("the 100,000-row import runs on SQLite; the option itself is tested on both below")
    path = tmp_path / "history.csv"
    # one answer every five minutes: the last year, the newest two weeks included
    alerting = _write_csv(path, 100_000, step=timedelta(minutes=5))
    assert alerting > 40_000  # they would have flooded the work lists
    with UnitOfWork(engine) as s:
        summary = csv_import.import_responses(s, path, "after_contact", now=NOW)
    assert summary.created == 100_000
    assert _counts(engine) == (100_000, 0, 0)  # stored, no alert evaluation queued, no follow-up


def test_the_alerts_option_runs_the_rules_on_recent_imported_answers_only(engine, org, tmp_path):
    path = tmp_path / "recent.csv"
    _write_csv(path, 40, step=timedelta(days=1), seed=3)  # NOW back to 39 days ago
    with UnitOfWork(engine) as s:
        csv_import.import_responses(s, path, "after_contact", now=NOW, alerts=True)
    assert _counts(engine)[1] == 1
    while run_pending(engine, now=NOW, limit=20).claimed:
        pass
    with UnitOfWork(engine, readonly=True) as s:
        cutoff = NOW - timedelta(days=14)
        expected = s.scalar(select(func.count(func.distinct(Response.customer_id)))
                            .where(Response.submitted_at >= cutoff, (Response.grade <= 5) | (Response.ces <= 3)))
        oldest = s.scalar(select(func.min(Response.submitted_at))
                          .join(FollowUpReason, FollowUpReason.response_id == Response.id))
        opened = s.scalar(select(func.count()).select_from(FollowUp))
    assert 0 < opened == expected  # 40 customers, one answer each: one follow-up per alerting recent answer
    assert oldest >= cutoff


def test_an_api_batch_is_historic_unless_asked(engine, org):
    with UnitOfWork(engine) as s:
        admin = s.get(User, org.users["admin"])
        key = org_service.create_api_key(s, "import", created_by=admin, scopes=allowed_scopes(admin.role)).key
    client = TestClient(create_app(engine, Settings(secret_key="historic-" + "x" * 30)))
    client.headers["Authorization"] = f"Bearer {key}"

    def item(i: int) -> dict:
        return {"external_id": f"A-{i}", "survey": "after_contact", "customer": "C-1",
                "submitted_at": NOW.isoformat(), "language": "nl", "answers": {"ces": 1, "grade": 2}}

    assert client.post("/api/v1/responses", json=[item(1), item(2)]).status_code == 201
    assert _counts(engine)[1] == 0
    assert client.post("/api/v1/responses?alerts=true", json=[item(3)]).status_code == 201
    assert _counts(engine)[1] == 1
    assert client.post("/api/v1/responses", json=item(4)).status_code == 201  # one live answer: alerts
    assert _counts(engine)[1] == 2
    reply = client.post("/api/v1/responses?alerts=false", json=item(5))
    assert reply.status_code == 201 and reply.json()["external_id"] == "A-5"
    assert _counts(engine)[1] == 2
    assert client.post("/api/v1/responses?alerts=maybe", json=item(6)).status_code == 422
