"""Job of relationship health: the rule that reaches out to customers at risk, once a day.

Each run opens follow-ups for customers whose only contact was transactional or who heard nothing after a bad
experience (``relationship.open_followups``, off unless ``SERVICEPULSE_RELATIONSHIP_FOLLOWUPS=true``) and
queues the next run. Listed in servicepulse/registry.py JOB_HANDLERS and PERIODIC_JOBS.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.investment import relationship
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext

RELATIONSHIP_FOLLOWUPS_JOB = "investment.relationship_followups"
RELATIONSHIP_FOLLOWUPS_EVERY = timedelta(days=1)
log = logging.getLogger(__name__)


def relationship_followups(session: Session, payload: dict, ctx: JobContext) -> None:
    opened = relationship.open_followups(session, ctx.now)
    if opened:
        log.info("relationship health: %d follow-ups opened", len(opened))
    schedule_next(session, RELATIONSHIP_FOLLOWUPS_JOB, ctx.now, every=RELATIONSHIP_FOLLOWUPS_EVERY)
