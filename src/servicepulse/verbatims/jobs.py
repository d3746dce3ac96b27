"""Background job `verbatims.analyse`: analyse comments after responses arrive or after the code frame changed."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from servicepulse.jobs.queue import enqueue, job_row
from servicepulse.jobs.registry import JobContext
from servicepulse.models import utcnow
from servicepulse.verbatims.analysis import analyse_responses

KIND = "verbatims.analyse"


def enqueue_analysis(session: Session, response_ids: Sequence[int] | None = None, *, reanalyse: bool = False):
    """Queue an analysis in the caller's unit of work. response_ids None = every comment not yet
    analysed (or all comments with reanalyse=True, e.g. after the code frame changed)."""
    return enqueue(session, KIND, _payload(response_ids, reanalyse))


def analysis_row(response_ids: Sequence[int]) -> dict:
    """The analysis of new responses as a job row (for `jobs.queue.enqueue_rows` on the ingest path)."""
    return job_row(KIND, _payload(response_ids, False), utcnow())


def _payload(response_ids: Sequence[int] | None, reanalyse: bool) -> dict:
    payload: dict = {"reanalyse": bool(reanalyse)}
    if response_ids is not None:
        payload["response_ids"] = [int(i) for i in response_ids]
    return payload


def run_analysis(session: Session, payload: dict, ctx: JobContext) -> None:
    ids = payload.get("response_ids")
    analyse_responses(session, ids, only_missing=not payload.get("reanalyse", False))
