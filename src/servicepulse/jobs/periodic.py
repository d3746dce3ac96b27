"""Periodic jobs: a chain of one-off jobs, each queuing the next at an aligned slot.

Slots are aligned to the period (e.g. every quarter hour on the clock) and the
dedupe key names the slot, so a restart, a second worker or a handler that
reschedules twice never doubles a run. `start_periodic_jobs` is called when a
worker starts, so a fresh installation needs nothing queued by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.registry import periodic_kinds


def next_slot(now: datetime, every: timedelta) -> datetime:
    seconds = int(every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds + seconds, UTC)


def schedule_next(session: Session, kind: str, now: datetime, payload: dict | None = None,
                  every: timedelta | None = None) -> None:
    every = every or periodic_kinds()[kind]
    slot = next_slot(now, every)
    enqueue(session, kind, payload or {}, run_at=slot, dedupe_key=f"{kind}:{slot.isoformat()}")


def start_periodic_jobs(engine: Engine, now: datetime) -> list[str]:
    """Queue the next run of every declared periodic job; returns their kinds."""
    kinds = periodic_kinds()
    with UnitOfWork(engine) as session:
        for kind in sorted(kinds):
            schedule_next(session, kind, now, every=kinds[kind])
    return sorted(kinds)
