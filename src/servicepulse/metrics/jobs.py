"""Job of the metrics domain: the proactive follow-up rule of the predicted experience, once a day.

Each run opens follow-ups for predicted detractors who did not answer (``predicted.open_followups``, off
unless ``SERVICEPULSE_PREDICTED_FOLLOWUPS=true``) and queues the next run. Listed in
servicepulse/registry.py JOB_HANDLERS and PERIODIC_JOBS.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext
from servicepulse.metrics import predicted

PREDICTED_FOLLOWUPS_JOB = "metrics.predicted_followups"
PREDICTED_FOLLOWUPS_EVERY = timedelta(days=1)
log = logging.getLogger(__name__)


def predicted_followups(session: Session, payload: dict, ctx: JobContext) -> None:
    opened = predicted.open_followups(session, ctx.now)
    if opened:
        log.info("predicted detractors: %d follow-ups opened", len(opened))
    schedule_next(session, PREDICTED_FOLLOWUPS_JOB, ctx.now, every=PREDICTED_FOLLOWUPS_EVERY)
