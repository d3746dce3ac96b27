"""Job handlers of the closed loop: evaluating new responses, delivering notifications."""

from __future__ import annotations

from sqlalchemy.orm import Session

from servicepulse.followups import notify  # noqa: F401  (registers followups.notify)
from servicepulse.followups.alerts import EVALUATE_JOB, evaluate_responses
from servicepulse.jobs.registry import JobContext, job_handler


@job_handler(EVALUATE_JOB)
def evaluate(session: Session, payload: dict, ctx: JobContext) -> None:
    evaluate_responses(session, [int(i) for i in payload.get("response_ids", [])], ctx.now)
