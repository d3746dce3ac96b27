"""The periodic run as a job: refresh forecasts, evaluate promises, raise signals.

Refreshing the forecasts first recalibrates the model's 80% interval on the
cases closed before the start of the day (``forecasting.recalibrate``) and keeps
that correction next to the saved model, where the case page, the API and
`forecast show` read it (``stored_recalibration``): the first run after midnight
(UTC) computes it, the rest of the day nobody does.

Queue it once with ``schedule_runs(session, now, every_minutes=15)``; each run
queues the next (dedupe key per slot, so two workers never double a run).
The worker must import this module (add it to jobs.registry.HANDLER_MODULES).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from servicepulse.expectations import forecasting, notify  # noqa: F401  (notify registers its handlers)
from servicepulse.expectations.signals import run_signals
from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.periodic import periodic, schedule_next
from servicepulse.jobs.registry import JobContext, job_handler
from servicepulse.settings import get_settings

JOB_KIND = "expectations.run_signals"
DEFAULT_EVERY = timedelta(minutes=15)
periodic(JOB_KIND, DEFAULT_EVERY)


def schedule_runs(session: Session, at: datetime, every_minutes: int = 15):
    return enqueue(session, JOB_KIND, {"every_minutes": every_minutes}, run_at=at,
                   dedupe_key=f"{JOB_KIND}:{at.isoformat()}")


@job_handler(JOB_KIND)
def run(session: Session, payload: dict, ctx: JobContext) -> None:
    path = forecasting.model_path(get_settings().data_dir)
    forecasting.refresh_snapshots(session, ctx.now, forecasting.load_forecaster(path), model_file=path)
    run_signals(session, ctx.now)
    every = int(payload.get("every_minutes") or DEFAULT_EVERY.total_seconds() // 60)
    if every > 0:  # the next run at the next aligned slot: a restart never starts a second chain
        schedule_next(session, JOB_KIND, ctx.now, {"every_minutes": every}, every=timedelta(minutes=every))
