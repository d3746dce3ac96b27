"""The hourly upkeep of the daily score aggregate as a periodic job (see ``aggregate.keep_daily_counts``).

Hourly: delta rows cost little to read but grow with every ingest, and a run
that finds nothing to fold costs two small scans of the roll-ups.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext
from servicepulse.responses.aggregate import keep_daily_counts

# The value predates the move of the aggregate to responses; kept because queued jobs are stored by kind.
FOLD_DAILY_COUNTS_JOB = "insights.fold_daily_counts"
FOLD_EVERY = timedelta(hours=1)
log = logging.getLogger(__name__)


def fold_daily_counts(session: Session, payload: dict, ctx: JobContext) -> None:
    done = keep_daily_counts(session)
    if done.built or done.days:
        log.info("score_daily_counts: %s, %d days folded, %d rows written",
                 "built" if done.built else "kept", len(done.days), done.rows)
    schedule_next(session, FOLD_DAILY_COUNTS_JOB, ctx.now, every=FOLD_EVERY)
