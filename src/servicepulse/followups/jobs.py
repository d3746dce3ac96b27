"""Job handlers of the closed loop: evaluating new responses, escalating overdue follow-ups,
announcing reopened cases (the signed webhook of followups.reopen).

Escalation runs every ESCALATE_EVERY as a chain of jobs: each run queues the next one (a dedupe
key per time slot, so two workers never start two chains). Ingestion queues the next slot too, so
the chain starts by itself once responses arrive; `servicepulse followups escalate` runs it by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from servicepulse.followups import reopen
from servicepulse.followups.alerts import evaluate_responses
from servicepulse.followups.service import escalate_overdue
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext

ESCALATE_JOB = "followups.escalate"
ESCALATE_EVERY = timedelta(minutes=15)
REOPEN_JOB = reopen.JOB_KIND  # the signed webhook that asks the source system to reopen a case


def schedule_escalation(session: Session, now: datetime) -> None:
    schedule_next(session, ESCALATE_JOB, now, every=ESCALATE_EVERY)


def evaluate(session: Session, payload: dict, ctx: JobContext) -> None:
    evaluate_responses(session, [int(i) for i in payload.get("response_ids", [])], ctx.now)
    schedule_escalation(session, ctx.now)


def escalate(session: Session, payload: dict, ctx: JobContext) -> None:
    escalate_overdue(session, ctx.now)
    schedule_escalation(session, ctx.now)


def announce_reopened(session: Session, payload: dict, ctx: JobContext) -> None:
    reopen.deliver(session, payload, ctx)
