"""Personal data in responses: erasure of one customer's responses and the retention of texts and responses.

Erasure and retention take the scores out of the daily aggregate (``score_daily_counts``) before the rows
go, with the same delta rows an edited response gets (``add_to_daily_counts(..., -1)``): the dashboard
figures stay equal to a recomputation from the raw tables, and no count is kept for an erased response.
Never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from servicepulse.customers import response_ids_of
from servicepulse.models import Answer, Question, Response
from servicepulse.responses.aggregate import add_to_daily_counts, day_start, last_aggregated_day

CHUNK = 500


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def delete_responses(session: Session, response_ids: list[int]) -> int:
    """Delete these responses and their answers, taking them out of the daily aggregate first;
    returns the rows deleted (responses + answers)."""
    ids = sorted({int(i) for i in response_ids})
    if not ids:
        return 0
    last = last_aggregated_day(session)
    removed = 0
    for chunk in _chunks(ids):
        if last is not None:
            # only days the aggregate holds: later days are built from the raw rows by the next fold
            counted = list(session.scalars(select(Response.id).where(
                Response.id.in_(chunk), Response.submitted_at < day_start(last + timedelta(days=1)))))
            add_to_daily_counts(session, counted, -1)
        removed += int(session.execute(delete(Answer).where(Answer.response_id.in_(chunk))).rowcount or 0)
        removed += int(session.execute(delete(Response).where(Response.id.in_(chunk))
                                       .execution_options(synchronize_session=False)).rowcount or 0)
    return removed


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the customer's responses and answers (texts and scores), and their scores from the aggregate.
    Call after the domains that read the responses (verbatims, follow-ups) and before cases and customers
    (the aggregate's journey and segment of a response come from its case and customer)."""
    return delete_responses(session, list(session.scalars(response_ids_of(customer_id))))


def _text_answers(cutoff: datetime):
    """SELECT of the ids of answers to open (text) questions of responses submitted before ``cutoff``."""
    return (select(Answer.id)
            .join(Response, Response.id == Answer.response_id)
            .join(Question, and_(Question.survey_version_id == Response.survey_version_id,
                                 Question.key == Answer.question_key))
            .where(Question.type == "text", Response.submitted_at < cutoff, Answer.value_text.is_not(None)))


def purge_comments_before(session: Session, cutoff: datetime) -> int:
    """Remove the open-answer texts of responses submitted before ``cutoff`` (the comment on the response and
    the text answers); scores stay. Returns the number of texts removed."""
    removed = int(session.execute(update(Response).where(Response.submitted_at < cutoff,
                                                         Response.comment.is_not(None))
                                  .values(comment=None).execution_options(synchronize_session=False)).rowcount or 0)
    removed += int(session.execute(update(Answer).where(Answer.id.in_(_text_answers(cutoff)))
                                   .values(value_text=None).execution_options(synchronize_session=False)).rowcount
                   or 0)
    return removed


def response_ids_before(session: Session, cutoff: datetime, limit: int = 50_000) -> list[int]:
    return list(session.scalars(select(Response.id).where(Response.submitted_at < cutoff)
                                .order_by(Response.id).limit(limit)))


def purge_responses_before(session: Session, cutoff: datetime) -> int:
    """Delete responses submitted before ``cutoff`` with their answers (and their counts in the aggregate);
    returns the responses deleted. Verbatims and anonymous submissions go with them (ON DELETE CASCADE)."""
    ids = response_ids_before(session, cutoff)
    if not ids:
        return 0
    delete_responses(session, ids)
    return len(ids)
