"""The hourly upkeep job builds the metric aggregate and folds the ingest's delta rows (real job queue, a clock
of our own, both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.periodic import next_slot, schedule_next
from servicepulse.jobs.queue import run_pending
from servicepulse.metrics import repository as repo
from servicepulse.models import Job, ScoreDailyCount
from servicepulse.responses import aggregate
from servicepulse.responses.jobs import FOLD_DAILY_COUNTS_JOB, FOLD_EVERY
from tests.responses.conftest import api, api_key, build_world, response, settings, world  # noqa: F401

NOW = datetime(2026, 3, 6, 9, 7, tzinfo=UTC)  # after the answers below, before the wall clock


def _sums(engine, source: str, by: str | None = None) -> pd.DataFrame:
    with UnitOfWork(engine, readonly=True) as s:
        return repo.metric_sums(s, by=by, source=source)


def _assert_daily_equals_raw(engine) -> None:
    for by in (None, "journey", "moment", "team", "channel", "segment", "period"):
        pd.testing.assert_frame_equal(_sums(engine, "raw", by), _sums(engine, "daily", by), check_dtype=False)


def _aggregate_rows(engine) -> int:
    with UnitOfWork(engine, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(ScoreDailyCount))


def _run_slot(engine, now: datetime) -> datetime:
    """Run what the queue has due at the next slot after ``now`` (as a worker would then); returns that slot."""
    slot = next_slot(now, FOLD_EVERY)
    summary = run_pending(engine, now=slot)
    assert summary.done >= 1 and summary.failed == 0 and summary.retried == 0, summary
    return slot


def test_the_job_builds_the_aggregate_then_folds_the_delta_rows(engine, api):  # noqa: F811
    with UnitOfWork(engine) as s:  # what a worker start does for every periodic kind
        schedule_next(s, FOLD_DAILY_COUNTS_JOB, NOW)
    # a run with nothing to do (no answers yet) writes nothing and keeps the chain going
    slot = _run_slot(engine, NOW)
    assert _aggregate_rows(engine) == 0

    assert api.post("/api/v1/responses", json=response("R-1", case="K-1")).status_code == 201
    assert api.post("/api/v1/responses", json=[response("R-2", answers={"ces": 2, "grade": 4})]).status_code == 201
    assert _aggregate_rows(engine) == 0  # no aggregate yet: the ingest adds no deltas
    slot = _run_slot(engine, slot)
    built = _aggregate_rows(engine)
    assert built > 0
    _assert_daily_equals_raw(engine)
    with UnitOfWork(engine, readonly=True) as s:
        assert repo.has_daily_counts(s) and aggregate.days_with_deltas(s) == []

    # three ingests on the aggregated day and one on a later day: delta rows pile up until the next run
    for i, grade in enumerate((3, 9, 10)):
        assert api.post("/api/v1/responses", json=response(f"R-{3 + i}", answers={"ces": 5, "grade": grade})).status_code == 201
    later = response("R-9", submitted_at="2026-03-05T08:00:00+01:00", answers={"ces": 7, "grade": 10})
    assert api.post("/api/v1/responses", json=later).status_code == 201
    piled = _aggregate_rows(engine)
    assert piled > built
    with UnitOfWork(engine, readonly=True) as s:
        assert aggregate.days_with_deltas(s) == [date(2026, 3, 2)]  # the later day has one delta per key: no pile-up
        assert aggregate.last_aggregated_day(s) == date(2026, 3, 5)
    _assert_daily_equals_raw(engine)  # exact meanwhile, through the deltas

    slot = _run_slot(engine, slot)
    folded = _aggregate_rows(engine)
    assert folded < piled
    with UnitOfWork(engine, readonly=True) as s:
        assert aggregate.days_with_deltas(s) == []
        # every delta row folded: a full rebuild would write exactly as many rows
        rows_by_day = dict(s.execute(select(ScoreDailyCount.day, func.count()).group_by(ScoreDailyCount.day)).all())
    _assert_daily_equals_raw(engine)
    with UnitOfWork(engine) as s:
        assert aggregate.refresh_daily_counts(s) == folded
        assert dict(s.execute(select(ScoreDailyCount.day, func.count())
                              .group_by(ScoreDailyCount.day)).all()) == rows_by_day

    with UnitOfWork(engine, readonly=True) as s:  # one chain: exactly one run queued, at the next slot
        queued = s.execute(select(Job.run_at).where(Job.kind == FOLD_DAILY_COUNTS_JOB, Job.status == "queued")).scalars().all()
    assert [q.astimezone(UTC) for q in queued] == [slot + FOLD_EVERY]


def test_responses_past_the_last_aggregated_day_without_deltas_are_aggregated(engine, small):
    """A bulk path that adds no delta rows (the demo load, the test data set here) is caught up by the job."""
    cut = date(2026, 3, 1)
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s, None, cut)  # as if the aggregate was last built before March
        assert aggregate.last_aggregated_day(s) < cut <= aggregate.last_response_day(s)
        schedule_next(s, FOLD_DAILY_COUNTS_JOB, NOW)
    _run_slot(engine, NOW)
    _assert_daily_equals_raw(engine)
    with UnitOfWork(engine, readonly=True) as s:
        assert aggregate.last_aggregated_day(s) == aggregate.last_response_day(s)
