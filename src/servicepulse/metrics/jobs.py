"""The hourly upkeep of the metric aggregate as a periodic job (see ``aggregate_upkeep``).

Hourly: delta rows cost little to read but grow with every ingest, and a run
that finds nothing to fold costs two small scans of the roll-ups.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.metrics.aggregate_upkeep import keep_daily_counts
from servicepulse.jobs.periodic import periodic, schedule_next
from servicepulse.jobs.registry import JobContext, job_handler

FOLD_JOB = "insights.fold_daily_counts"
FOLD_EVERY = timedelta(hours=1)
periodic(FOLD_JOB, FOLD_EVERY)
log = logging.getLogger(__name__)


@job_handler(FOLD_JOB)
def fold(session: Session, payload: dict, ctx: JobContext) -> None:
    done = keep_daily_counts(session)
    if done.built or done.days:
        log.info("score_daily_counts: %s, %d days folded, %d rows written",
                 "built" if done.built else "kept", len(done.days), done.rows)
    schedule_next(session, FOLD_JOB, ctx.now)
