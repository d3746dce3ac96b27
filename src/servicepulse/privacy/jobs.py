"""The daily retention run as a periodic job (see ``privacy.retention``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext
from servicepulse.privacy.retention import run_retention

RETENTION_JOB = "privacy.retention"
RETENTION_EVERY = timedelta(days=1)
log = logging.getLogger(__name__)


def retention(session: Session, payload: dict, ctx: JobContext) -> None:
    removed = run_retention(session, ctx.now)
    if any(removed.values()):
        log.info("retention: removed %s", ", ".join(f"{k} {v}" for k, v in removed.items() if v))
    schedule_next(session, RETENTION_JOB, ctx.now, every=RETENTION_EVERY)
