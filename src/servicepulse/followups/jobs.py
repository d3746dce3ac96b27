"""Job handlers of the closed loop: evaluating new responses, escalating overdue follow-ups,
delivering notifications.

Escalation runs every ESCALATE_EVERY as a chain of jobs: each run queues the next one (a dedupe
key per time slot, so two workers never start two chains). Ingestion queues the next slot too, so
the chain starts by itself once responses arrive; `servicepulse followups escalate` runs it by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from servicepulse.followups import notify  # noqa: F401  (registers followups.notify)
from servicepulse.followups.alerts import EVALUATE_JOB, evaluate_responses
from servicepulse.followups.service import escalate_overdue
from servicepulse.jobs.registry import JobContext, job_handler

ESCALATE_JOB = "followups.escalate"
ESCALATE_EVERY = timedelta(minutes=15)


def next_slot(now: datetime) -> datetime:
    seconds = int(ESCALATE_EVERY.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds + seconds, timezone.utc)


def schedule_escalation(session: Session, now: datetime) -> None:
    from servicepulse.jobs.queue import enqueue

    slot = next_slot(now)
    enqueue(session, ESCALATE_JOB, {}, run_at=slot, dedupe_key=f"fu-escalate:{slot.isoformat()}")


@job_handler(EVALUATE_JOB)
def evaluate(session: Session, payload: dict, ctx: JobContext) -> None:
    evaluate_responses(session, [int(i) for i in payload.get("response_ids", [])], ctx.now)
    schedule_escalation(session, ctx.now)


@job_handler(ESCALATE_JOB)
def escalate(session: Session, payload: dict, ctx: JobContext) -> None:
    escalate_overdue(session, ctx.now)
    schedule_escalation(session, ctx.now)
