"""The shipping job: a chain that sends the outbox to the analytics store every few seconds.

Each run ships one batch in the job's unit of work (entries removed only if the transaction commits)
and queues the next run: at once while a full batch came out, else at the next slot. Without an
analytics store the chain only looks in now and then (nothing is written to the outbox then). Done runs
of this chain older than an hour are removed, or a chain every two seconds would fill the job table.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from servicepulse.analytics_store.engine import configured_store
from servicepulse.analytics_store.replication import SHIP_BATCH, SHIP_JOB, ensure_schema, ship_batch, shipping
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.registry import JobContext
from servicepulse.models import Job
from servicepulse.settings import get_settings

SHIP_EVERY = timedelta(seconds=2)
# The period the worker starts the chain with (registry.PERIODIC_JOBS), and the pace without a store: the
# chain then runs every SHIP_EVERY on aligned slots, so a restart never doubles it.
START_EVERY = IDLE_EVERY = timedelta(minutes=15)
KEEP_DONE = timedelta(hours=1)


def ship(session: Session, payload: dict, ctx: JobContext) -> None:
    settings = get_settings()
    if not settings.analytics_url:
        schedule_next(session, SHIP_JOB, ctx.now, every=IDLE_EVERY)
        return
    store = configured_store(settings.analytics_url, settings.data_dir)
    ensure_schema(store)
    with shipping():
        shipped = ship_batch(session.connection(), store)
    session.execute(delete(Job).where(Job.kind == SHIP_JOB, Job.status == "done",
                                      Job.finished_at < ctx.now - KEEP_DONE))
    if shipped.entries >= SHIP_BATCH:
        enqueue(session, SHIP_JOB, {}, run_at=ctx.now, dedupe_key=f"{SHIP_JOB}:more:{ctx.job_id}")
    else:
        schedule_next(session, SHIP_JOB, ctx.now, every=SHIP_EVERY)
