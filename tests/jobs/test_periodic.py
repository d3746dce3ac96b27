"""Periodic chains start when a worker starts and never double, whatever restarts happen."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.periodic import next_slot, start_periodic_jobs
from servicepulse.models import Job

NOW = datetime(2026, 3, 2, 9, 7, 30, tzinfo=UTC)


def test_next_slot_is_aligned_to_the_period():
    assert next_slot(NOW, timedelta(minutes=15)) == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert next_slot(datetime(2026, 3, 2, 9, 15, tzinfo=UTC), timedelta(minutes=15)) == \
        datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_worker_start_queues_each_periodic_job_once(engine):
    kinds = start_periodic_jobs(engine, NOW)
    assert {"expectations.run_signals", "followups.escalate"} <= set(kinds)
    start_periodic_jobs(engine, NOW + timedelta(minutes=3))  # a restart in the same slot
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Job.kind, func.count()).group_by(Job.kind)).all()
    counts = dict(rows)
    assert all(counts[k] == 1 for k in kinds), counts
