"""Jobs of the expectations domain: the periodic run (refresh forecasts, evaluate promises,
raise signals), and the reaction to imported events (``expectations.on_events``).

Refreshing the forecasts first recalibrates the model's 80% interval on the
cases closed before the start of the day (``forecasting.recalibrate``) and keeps
that correction next to the saved model, where the case page, the API and
`forecast show` read it (``stored_recalibration``): the first run after midnight
(UTC) computes it, the rest of the day nobody does.

Queue it once with ``schedule_runs(session, now, every_minutes=15)``; each run
queues the next (dedupe key per slot, so two workers never double a run).
Every event import (CLI, API, XES, through `servicepulse.cases.service.ingest_events`) queues
``expectations.on_events`` by kind name with the touched case ids (at most 5,000 per job):
the promises its events make are recognised, and the open promises of those cases are
decided as of the job's run, so a later event keeps a promise as soon as it arrives.

Its handlers are listed in servicepulse/registry.py JOB_HANDLERS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from servicepulse.expectations import forecasting, promises
from servicepulse.expectations.signals import run_signals
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.registry import JobContext
from servicepulse.settings import get_settings

JOB_KIND = "expectations.run_signals"
ON_EVENTS_KIND = "expectations.on_events"  # queued by the cases domain's event import, by this name
DEFAULT_EVERY = timedelta(minutes=15)


def schedule_runs(session: Session, at: datetime, every_minutes: int = 15):
    return enqueue(session, JOB_KIND, {"every_minutes": every_minutes}, run_at=at,
                   dedupe_key=f"{JOB_KIND}:{at.isoformat()}")


def run(session: Session, payload: dict, ctx: JobContext) -> None:
    path = forecasting.model_path(get_settings().data_dir)
    forecasting.refresh_snapshots(session, ctx.now, forecasting.load_forecaster(path), model_file=path)
    run_signals(session, ctx.now)
    every = int(payload.get("every_minutes") or DEFAULT_EVERY.total_seconds() // 60)
    if every > 0:  # the next run at the next aligned slot: a restart never starts a second chain
        schedule_next(session, JOB_KIND, ctx.now, {"every_minutes": every}, every=timedelta(minutes=every))


def on_events(session: Session, payload: dict, ctx: JobContext) -> None:
    promises.on_events(session, [int(i) for i in payload.get("case_ids") or []], now=ctx.now)
