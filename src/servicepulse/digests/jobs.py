"""Job handlers: the hourly look for due digests (a periodic chain, started by every worker), and the
sending of one digest."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.digests.sending import send_digest
from servicepulse.digests.service import SEND_JOB, queue_due
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext
from servicepulse.settings import get_settings

SCHEDULE_JOB = "digests.schedule"
SCHEDULE_EVERY = timedelta(hours=1)
SEND_KIND = SEND_JOB


def schedule(session: Session, payload: dict, ctx: JobContext) -> None:
    queue_due(session, ctx.now, get_settings().zone())
    schedule_next(session, SCHEDULE_JOB, ctx.now, every=SCHEDULE_EVERY)


def send(session: Session, payload: dict, ctx: JobContext) -> None:
    send_digest(ctx.engine, session, payload, ctx.now)
