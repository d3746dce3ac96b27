"""The job queue: enqueue, claim due jobs, run each in its own unit of work, retry with backoff.

Claiming is a short transaction of its own. On PostgreSQL it selects due rows
`FOR UPDATE SKIP LOCKED`, so concurrent workers each take different jobs
without waiting on one another. On SQLite every write transaction starts with
BEGIN IMMEDIATE (see db/engine.py), which serialises claims outright.

A handler's database work and the job's "done" mark commit together, so a job
whose effects are in the database is never run again. A worker that dies
mid-job leaves the row 'running'; after `STALE_AFTER` another worker takes it
over (the attempt counts).
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.registry import JobContext, PermanentFailure, RetryLater, handler_for
from servicepulse.models import Job, utcnow

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 6 * 3600.0
STALE_AFTER = timedelta(minutes=15)
MAX_ERROR_CHARS = 4000


def enqueue(session: Session, kind: str, payload: dict | None = None, run_at: datetime | None = None,
            dedupe_key: str | None = None, max_attempts: int = 5) -> Job:
    """Add a job in the caller's unit of work (so it exists only if that work commits).

    With a `dedupe_key`, a second enqueue with the same key returns the existing
    job instead of adding one: a key means "this work happens once, ever".
    """
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    job = Job(kind=kind, payload=dict(payload or {}), run_at=run_at or utcnow(), dedupe_key=dedupe_key,
              max_attempts=max_attempts, status="queued", attempts=0)
    if dedupe_key is None:
        session.add(job)
        session.flush()
        return job
    # Another transaction may insert the same key between our check and our insert.
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is None:
            raise
        return existing
    return job


def job_row(kind: str, payload: dict, run_at: datetime, *, dedupe_key: str | None = None,
            max_attempts: int = 5) -> dict:
    """A new job as a row for :func:`enqueue_rows`."""
    if run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    return {"kind": kind, "payload": dict(payload), "status": "queued", "run_at": run_at, "attempts": 0,
            "max_attempts": max_attempts, "dedupe_key": dedupe_key, "created_at": utcnow()}


_INSERT_JOBS = insert(Job.__table__)
_ROWS_PER_INSERT = 500  # well under SQLite's bound-parameter limit


def enqueue_rows(session: Session, rows: list[dict]) -> int:
    """Add many new jobs (rows from :func:`job_row`) in the caller's unit of work: multi-row
    inserts, no ORM objects, so queueing stays cheap on hot paths such as response ingestion.
    Dedupe keys are not looked up first: a key already taken fails the caller's transaction."""
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        session.connection().execute(_INSERT_JOBS, rows[start:start + _ROWS_PER_INSERT])
    return len(rows)


def enqueue_rows_once(session: Session, rows: list[dict]) -> int:
    """Like :func:`enqueue_rows`, but a row whose dedupe key is taken is skipped (INSERT ... ON CONFLICT DO
    NOTHING), so announcing the same thing twice queues it once without a look-up per row."""
    dialect = session.get_bind().dialect.name
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_for(Job.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        session.execute(statement, rows[start:start + _ROWS_PER_INSERT])
    return len(rows)


def backoff_seconds(attempts: int) -> float:
    """Delay before retry number `attempts` (1-based): 30 s, 60 s, 120 s, ... capped at 6 h."""
    return min(BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0)), BACKOFF_MAX_SECONDS)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict
    attempt: int
    max_attempts: int


@dataclass
class RunSummary:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0


def claim(engine: Engine, worker_id: str, now: datetime, limit: int = 10) -> list[ClaimedJob]:
    """Mark up to `limit` due jobs as running by `worker_id` and return them (commits)."""
    stale = now - STALE_AFTER
    due = or_(
        and_(Job.status == "queued", Job.run_at <= now),
        and_(Job.status == "running", Job.locked_at < stale),
    )
    query = select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(limit)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with engine.begin() as conn:
        ids = list(conn.scalars(query))
        if not ids:
            return []
        conn.execute(
            update(Job).where(Job.id.in_(ids))
            .values(status="running", locked_by=worker_id, locked_at=now, attempts=Job.attempts + 1)
        )
        rows = conn.execute(
            select(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts).where(Job.id.in_(ids))
            .order_by(Job.run_at, Job.id)
        ).all()
    return [ClaimedJob(r.id, r.kind, r.payload or {}, r.attempts, r.max_attempts) for r in rows]


def run_pending(engine: Engine, now: datetime | None = None, limit: int = 10,
                worker_id: str | None = None) -> RunSummary:
    """Claim the jobs due at `now` and run them, each in its own unit of work."""
    now = now or utcnow()
    worker_id = worker_id or default_worker_id()
    summary = RunSummary()
    for job in claim(engine, worker_id, now, limit):
        summary.claimed += 1
        outcome = run_one(engine, job, worker_id, now)
        setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


def run_one(engine: Engine, job: ClaimedJob, worker_id: str, now: datetime) -> str:
    """Run one claimed job; returns 'done', 'retried' or 'failed'."""
    handler = handler_for(job.kind)
    if handler is None:
        _record_failure(engine, job, worker_id, now, f"no handler is registered for job kind {job.kind!r}",
                        permanent=True)
        return "failed"
    ctx = JobContext(job_id=job.id, kind=job.kind, attempt=job.attempt, max_attempts=job.max_attempts, now=now,
                     engine=engine)
    try:
        with UnitOfWork(engine) as session:
            handler(session, dict(job.payload), ctx)
            # Done in the same transaction as the handler's effects; the guard on
            # locked_by keeps a worker that lost its lease from finishing twice.
            marked = session.execute(
                update(Job).where(Job.id == job.id, Job.locked_by == worker_id, Job.status == "running")
                .values(status="done", finished_at=now, last_error=None)
            ).rowcount
            if marked != 1:
                raise _LostLease(f"job {job.id} was taken over by another worker")
    except _LostLease:
        log.warning("job %s (%s): lease lost, effects rolled back", job.id, job.kind)
        return "retried"
    except PermanentFailure as exc:
        _record_failure(engine, job, worker_id, now, f"{type(exc).__name__}: {exc}", permanent=True)
        return "failed"
    except RetryLater as exc:
        return _record_failure(engine, job, worker_id, now, f"retry requested: {exc}", delay=exc.delay_seconds)
    except Exception as exc:  # a handler bug or an outage: keep the worker alive, retry later
        log.exception("job %s (%s) attempt %s failed", job.id, job.kind, job.attempt)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _record_failure(engine, job, worker_id, now, detail)
    return "done"


class _LostLease(Exception):
    pass


def _record_failure(engine: Engine, job: ClaimedJob, worker_id: str, now: datetime, error: str,
                    permanent: bool = False, delay: float | None = None) -> str:
    final = permanent or job.attempt >= job.max_attempts
    values = {"last_error": error[:MAX_ERROR_CHARS], "locked_by": None, "locked_at": None}
    if final:
        values.update(status="failed", finished_at=now)
    else:
        wait = backoff_seconds(job.attempt) if delay is None else max(float(delay), 0.0)
        values.update(status="queued", run_at=now + timedelta(seconds=wait))
    with UnitOfWork(engine) as session:
        session.execute(
            update(Job).where(Job.id == job.id, Job.locked_by == worker_id).values(**values)
        )
    return "failed" if final else "retried"
