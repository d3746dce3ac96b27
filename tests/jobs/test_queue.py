"""The job queue on both databases: claims, retries with backoff, dedupe, leases, concurrent workers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs import PermanentFailure, RetryLater, Worker, enqueue, install, run_pending
from servicepulse.jobs.queue import backoff_seconds, claim, run_one
from servicepulse.models import Customer, Job

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RAN: list[tuple[int, str]] = []
RAN_LOCK = threading.Lock()


def _record(session, payload, ctx):
    with RAN_LOCK:
        RAN.append((ctx.job_id, threading.current_thread().name))
    # Real database work in the job's unit of work: one customer per job.
    session.add(Customer(external_id=f"job-{ctx.job_id}"))
    if payload.get("pause"):
        time.sleep(payload["pause"])  # widen the window in which two workers could collide


def _flaky(session, payload, ctx):
    session.add(Customer(external_id=f"flaky-{ctx.job_id}-{ctx.attempt}"))
    session.flush()
    if ctx.attempt < payload["succeed_on"]:
        raise RuntimeError(f"boom on attempt {ctx.attempt}")


def _permanent(session, payload, ctx):
    raise PermanentFailure("the address is not valid")


def _later(session, payload, ctx):
    raise RetryLater("server busy", delay_seconds=5)


install({"test.record": _record, "test.flaky": _flaky, "test.permanent": _permanent, "test.later": _later})


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()


def _job(engine, job_id) -> Job:
    with UnitOfWork(engine, readonly=True) as s:
        job = s.get(Job, job_id)
        s.expunge(job)  # keep its loaded values after the read-only session rolls back
        return job


def _customers(engine) -> int:
    with UnitOfWork(engine, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_due_jobs_run_once_and_future_jobs_wait(engine):
    with UnitOfWork(engine) as s:
        now_job = enqueue(s, "test.record", {}, run_at=T0).id
        later_job = enqueue(s, "test.record", {}, run_at=T0 + timedelta(hours=1)).id
    summary = run_pending(engine, now=T0)
    assert (summary.claimed, summary.done) == (1, 1)
    assert [j for j, _ in RAN] == [now_job]
    assert _job(engine, now_job).status == "done" and _job(engine, now_job).finished_at == T0
    assert _job(engine, later_job).status == "queued"
    assert run_pending(engine, now=T0 + timedelta(minutes=59)).claimed == 0
    assert run_pending(engine, now=T0 + timedelta(hours=1)).done == 1
    assert run_pending(engine, now=T0 + timedelta(hours=2)).claimed == 0  # nothing runs twice
    assert _customers(engine) == 2


def test_failure_rolls_back_and_retries_with_exponential_backoff(engine):
    with UnitOfWork(engine) as s:
        job_id = enqueue(s, "test.flaky", {"succeed_on": 3}, run_at=T0, max_attempts=5).id
    assert run_pending(engine, now=T0).retried == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("queued", 1)
    assert "boom on attempt 1" in job.last_error
    assert job.run_at == T0 + timedelta(seconds=30)
    assert _customers(engine) == 0  # the failed attempt's work was rolled back

    assert run_pending(engine, now=T0 + timedelta(seconds=29)).claimed == 0
    t2 = T0 + timedelta(seconds=30)
    assert run_pending(engine, now=t2).retried == 1
    assert _job(engine, job_id).run_at == t2 + timedelta(seconds=60)  # doubled
    assert run_pending(engine, now=t2 + timedelta(seconds=60)).done == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts, job.last_error) == ("done", 3, None)
    assert _customers(engine) == 1


def test_failed_after_max_attempts(engine):
    with UnitOfWork(engine) as s:
        job_id = enqueue(s, "test.flaky", {"succeed_on": 99}, run_at=T0, max_attempts=2).id
    run_pending(engine, now=T0)
    assert run_pending(engine, now=T0 + timedelta(hours=1)).failed == 1
    job = _job(engine, job_id)
    assert (job.status, job.attempts) == ("failed", 2)
    assert "boom on attempt 2" in job.last_error
    assert run_pending(engine, now=T0 + timedelta(days=1)).claimed == 0


def test_permanent_failure_unknown_kind_and_retry_later(engine):
    with UnitOfWork(engine) as s:
        perm = enqueue(s, "test.permanent", {}, run_at=T0).id
        unknown = enqueue(s, "test.no-such-kind", {}, run_at=T0).id
        later = enqueue(s, "test.later", {}, run_at=T0).id
    run_pending(engine, now=T0)
    assert _job(engine, perm).status == "failed" and "not valid" in _job(engine, perm).last_error
    assert _job(engine, unknown).status == "failed" and "no handler" in _job(engine, unknown).last_error
    assert _job(engine, later).run_at == T0 + timedelta(seconds=5)


def test_backoff_is_capped():
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(40) == 6 * 3600


def test_dedupe_key_makes_work_happen_once(engine):
    with UnitOfWork(engine) as s:
        first = enqueue(s, "test.record", {"n": 1}, run_at=T0, dedupe_key="invite:1:42").id
        again = enqueue(s, "test.record", {"n": 2}, run_at=T0, dedupe_key="invite:1:42").id
    assert first == again
    run_pending(engine, now=T0)
    with UnitOfWork(engine) as s:  # also after the job is done
        assert enqueue(s, "test.record", {}, dedupe_key="invite:1:42").id == first
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 1


def test_stale_running_job_is_taken_over_and_the_old_worker_cannot_finish_it(engine):
    with UnitOfWork(engine) as s:
        job_id = enqueue(s, "test.record", {}, run_at=T0).id
    [claimed] = claim(engine, "worker-a", T0)  # worker A claims, then stalls (crash, GC pause...)
    assert run_pending(engine, now=T0 + timedelta(minutes=5), worker_id="worker-b").claimed == 0
    assert run_pending(engine, now=T0 + timedelta(minutes=16), worker_id="worker-b").done == 1
    assert run_one(engine, claimed, "worker-a", T0 + timedelta(minutes=17)) == "retried"
    job = _job(engine, job_id)
    assert (job.status, job.attempts, job.locked_by) == ("done", 2, "worker-b")
    assert _customers(engine) == 1  # worker A's late effects were rolled back


def test_two_workers_claiming_concurrently_never_run_a_job_twice(engine):
    n = 40
    with UnitOfWork(engine) as s:
        ids = {enqueue(s, "test.record", {"pause": 0.002}, run_at=T0).id for _ in range(n)}
    start = threading.Barrier(2)
    errors = []

    def work(name):
        try:
            start.wait()
            while run_pending(engine, now=T0, limit=3, worker_id=name).claimed:
                pass
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",), name=f"w{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ran = [j for j, _ in RAN]
    assert len(ran) == len(set(ran)) == n and set(ran) == ids
    assert {name for _, name in RAN} == {"w0", "w1"}  # both really took part
    assert _customers(engine) == n
    with UnitOfWork(engine, readonly=True) as s:
        assert set(s.scalars(select(Job.status))) == {"done"}
        assert set(s.scalars(select(Job.attempts))) == {1}


def test_worker_thread_runs_jobs_and_stops(engine):
    with UnitOfWork(engine) as s:
        job_id = enqueue(s, "test.record", {}, run_at=T0).id
    worker = Worker(engine, poll_interval=0.05, clock=lambda: T0).start()
    try:
        deadline = time.monotonic() + 10
        while _job(engine, job_id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    assert _job(engine, job_id).status == "done"
    assert not worker._thread.is_alive()
