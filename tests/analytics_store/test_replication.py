"""Replication to the analytics store through the real write paths: every replicated table in chDB equals
the main database's table, row for row (after FINAL), on SQLite and PostgreSQL; replaying a shipped batch
changes nothing; a rebuild equals what shipping produced; with the store off nothing is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from servicepulse.analytics_store import SHIP_JOB, TABLES, lag, newest_rows_at, rebuild, ship_pending
from servicepulse.cases import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.jobs import enqueue, run_pending
from servicepulse.models import AnalyticsOutbox, Case, CaseEvent, Job, Moment, Response, SurveyVersion, Verbatim, utcnow
from servicepulse.privacy import RetentionSettings, erase_customer, run_retention
from servicepulse.responses import keep_daily_counts
from servicepulse.responses.form import spec_for_version
from servicepulse.responses.service import ingest, rewrite_response
from servicepulse.settings import get_settings
from tests.responses.conftest import build_world, response

from .conftest import differences, store_rows

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def ev(case, activity, ts, **kw):
    return {"case_id": case, "activity": activity, "timestamp": ts, **kw}


EVENTS = [
    ev("K-1", "Ticket created", "2026-03-01T10:00:00+01:00", event_id="e1", direction="inbound", channel="web",
       customer="C-1", customer_facing=True, team="Team A"),
    ev("K-1", "Resolved", "2026-03-02T16:00:00+01:00", event_id="e2", team="Team A"),
    ev("K-7", "Ticket created", "2026-03-03T09:00:00+01:00", event_id="e3", direction="inbound", channel="phone",
       customer="C-2", customer_facing=True, note="klant \\ belt 'terug'\ttab"),
    ev("K-7", "Engineer visit", "2026-03-04T11:00:00+01:00", event_id="e4", customer_facing=True),
]


def _outbox(engine) -> list[tuple]:
    with UnitOfWork(engine, readonly=True) as s:
        return s.execute(select(AnalyticsOutbox.kind, AnalyticsOutbox.key).order_by(AnalyticsOutbox.id)).all()


def _scenario(engine):
    """The write paths of the issue, each in its own unit of work as the app runs them."""
    build_world(engine)  # ORM: journeys, moments, teams, customers, a case, survey templates
    with UnitOfWork(engine) as s:
        ingest(s, [response("R-1", answers={"ces": 6, "grade": 8, "why": "Snel geholpen, dank \\ je"}),
                   response("R-2", answers={"ces": 2, "grade": 4, "why": "Drie keer gebeld \\ 'niks'\tgedaan"}),
                   response("R-3", customer="C-2", submitted_at="2026-03-05T09:00:00+01:00",
                            answers={"ces": 5, "grade": 7, "why": "Monteur was op tijd"}),
                   response("R-4", submitted_at="2025-01-10T09:00:00+01:00",
                            answers={"ces": 4, "grade": 6, "why": "Oud antwoord"})], now=NOW)
    with UnitOfWork(engine) as s:  # an edit, as the survey page saves a second time
        r1 = s.scalar(select(Response).where(Response.external_id == "R-1"))
        spec = spec_for_version(s, s.get(SurveyVersion, r1.survey_version_id))
        rewrite_response(s, r1.id, {"grade": 3, "ces": 2, "comment": "Toch niet opgelost",
                                    "submitted_at": NOW - timedelta(hours=1)},
                         spec, {"ces": 2, "grade": 3, "why": "Toch niet opgelost"}, NOW, newly_completed=False)
    with UnitOfWork(engine) as s:  # an event import: an existing case and a new one, with case facts
        ingest_events(s, EVENTS)
    run_pending(engine, now=utcnow() + timedelta(minutes=1), limit=100)  # verbatim analysis, what the ingests queued
    with UnitOfWork(engine) as s:
        keep_daily_counts(s)  # the aggregate fold
    with UnitOfWork(engine) as s:  # a dimension edited through the ORM
        s.scalar(select(Moment).where(Moment.key == "contact")).name_en = "First contact"
    with UnitOfWork(engine) as s:
        erase_customer(s, "C-2", "test", now=NOW, secret="test-secret")
    with UnitOfWork(engine) as s:  # retention: R-4's comment goes (older than 300 days), nothing else
        run_retention(s, NOW, RetentionSettings(comments_days=300, responses_days=0, case_events_days=0,
                                                invitations_days=0, contact_notes_days=0, audit_log_days=0))


def test_every_write_path_reaches_the_store(engine, store):
    _scenario(engine)
    pending = _outbox(engine)
    kinds = {k for k, _ in pending}
    assert {"response", "case", "customer", "day", "journeys", "moments", "surveys"} <= kinds
    with UnitOfWork(engine, readonly=True) as s:
        assert lag(s.connection()).pending == len(pending) > 0
    shipped = ship_pending(engine, store, limit=7)  # small batches: several shipments
    assert shipped.entries == len(pending) and _outbox(engine) == []

    assert differences(engine, store) == {}
    with UnitOfWork(engine, readonly=True) as s:  # independent checks of what the comparison relies on
        assert s.scalar(select(func.count()).select_from(Verbatim)) == 3  # R-4 (R-3 erased)
        r4 = s.scalar(select(Response.id).where(Response.external_id == "R-4"))
        k1 = s.scalar(select(Case.id).where(Case.external_id == "K-1"))
        ids = {r.external_id for r in s.scalars(select(Response))}
    assert {r["external_id"] for r in store_rows(store, "responses")} == ids == {"R-1", "R-2", "R-4"}
    assert store.scalar("SELECT comment FROM responses FINAL WHERE id = {id:Int64}", {"id": r4}) in ("", None)
    assert store.scalar("SELECT text FROM verbatims FINAL WHERE response_id = {id:Int64}", {"id": r4}) == ""
    tricky = "Drie keer gebeld \\ 'niks'\tgedaan"  # a backslash, quotes and a tab through a bound parameter
    assert store.scalar("SELECT count() FROM responses FINAL WHERE comment = {c:String}", {"c": tricky}) == 1
    assert store.scalar("SELECT grade FROM responses FINAL WHERE external_id = 'R-1'") == 3
    assert store.scalar("SELECT count() FROM case_events FINAL WHERE case_id = {id:Int64}", {"id": k1}) == 2
    assert store.scalar("SELECT count() FROM cases FINAL WHERE external_id = 'K-7'") == 0  # erased with C-2
    assert store.scalar("SELECT count() FROM customers FINAL") == 1
    assert store.scalar("SELECT name_en FROM moments FINAL WHERE key = 'contact'") == "First contact"
    attrs = store.scalar("SELECT attributes FROM case_events FINAL WHERE external_id = 'e1'")
    with UnitOfWork(engine, readonly=True) as s:
        assert json.loads(attrs) == s.scalar(select(CaseEvent.attributes).where(CaseEvent.external_id == "e1"))


def test_replay_and_rebuild_change_nothing(engine, store):
    _scenario(engine)
    pending = _outbox(engine)
    ship_pending(engine, store)
    before = {name: store_rows(store, name) for name in TABLES}
    with UnitOfWork(engine) as s:  # the same batch once more (a worker died before its commit)
        s.execute(insert(AnalyticsOutbox), [{"kind": k, "key": key, "created_at": NOW} for k, key in pending])
    ship_pending(engine, store)
    assert {name: store_rows(store, name) for name in TABLES} == before
    rebuild(engine, store)
    assert {name: store_rows(store, name) for name in TABLES} == before
    assert differences(engine, store) == {}


def test_a_rebuild_alone_equals_the_main_database(engine, store):
    _scenario(engine)
    with UnitOfWork(engine) as s:
        s.execute(AnalyticsOutbox.__table__.delete())  # as if the store were added to a running installation
    seen = []
    counts = rebuild(engine, store, progress=lambda name, done, total: seen.append((name, done, total)))
    assert differences(engine, store) == {}
    assert counts["responses"] == 3 and ("responses", 3, 3) in seen


def test_without_a_store_nothing_is_written_to_the_outbox(engine):
    assert not get_settings().analytics_url
    _scenario(engine)
    assert _outbox(engine) == []


def test_the_job_ships_and_queues_its_next_run(engine, store):
    _scenario(engine)
    with UnitOfWork(engine) as s:
        enqueue(s, SHIP_JOB, {})
    run_pending(engine, now=utcnow() + timedelta(minutes=2), limit=100)
    assert _outbox(engine) == [] and differences(engine, store) == {}
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == SHIP_JOB,
                                                                    Job.status == "queued")) == 1
        assert lag(s.connection()).last_shipped_at is not None


def test_the_last_shipment_counts_a_rebuild_as_the_admin_page_does(engine, store):
    # a rebuild (the demo, the command line) runs no shipping job: the worker's jobs alone would say "never",
    # the admin page reads the store's newest rows; `newest_rows_at` (used by `analytics status`) does the same
    _scenario(engine)
    with UnitOfWork(engine) as s:
        s.execute(Job.__table__.delete().where(Job.kind == SHIP_JOB))  # no shipping job has run
    before = utcnow()
    rebuild(engine, store)
    arrived = newest_rows_at(store)
    assert arrived is not None and before - timedelta(seconds=1) <= arrived <= utcnow() + timedelta(seconds=1)
    with engine.connect() as conn:
        assert lag(conn).last_shipped_at is None  # no job has run: why status needs the store's own time
