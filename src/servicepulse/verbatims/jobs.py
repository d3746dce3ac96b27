"""Background job `verbatims.analyse`: analyse comments after responses arrive or after the code frame changed."""

from __future__ import annotations

from typing import Sequence

from sqlalchemy.orm import Session

from servicepulse.jobs.queue import enqueue
from servicepulse.jobs.registry import JobContext, job_handler
from servicepulse.verbatims.analysis import analyse_responses

KIND = "verbatims.analyse"


def enqueue_analysis(session: Session, response_ids: Sequence[int] | None = None, *, reanalyse: bool = False):
    """Queue an analysis in the caller's unit of work. response_ids None = every comment not yet
    analysed (or all comments with reanalyse=True, e.g. after the code frame changed)."""
    payload: dict = {"reanalyse": bool(reanalyse)}
    if response_ids is not None:
        payload["response_ids"] = [int(i) for i in response_ids]
    return enqueue(session, KIND, payload)


@job_handler(KIND)
def run_analysis(session: Session, payload: dict, ctx: JobContext) -> None:
    ids = payload.get("response_ids")
    analyse_responses(session, ids, only_missing=not payload.get("reanalyse", False))
