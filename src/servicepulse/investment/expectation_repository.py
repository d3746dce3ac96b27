"""Queries behind the expectation gap: counts per answer value in SQL, the arithmetic in expectation_gap.

Expectation answers are counted per journey (of the expectation survey's moment), question and chosen value;
the paired answers of one respondent (expected and perceived mark of a dimension) per pair of values; the
perceived marks of moments are the journey surveys' moment grades (``moment_<key>``, matched as the metrics
match them: within the journey of the response's case, any journey when it has none).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from servicepulse.investment.expectation_survey import (
    DIMENSIONS,
    EXPECTED,
    IMPORTANCE,
    MARKER,
    PERCEIVED,
)
from servicepulse.models import Answer, Case, Journey, Moment, Question, Response, Survey, SurveyVersion
from servicepulse.responses import moment_match


def _window(since: datetime | None, until: datetime | None) -> list:
    where = [Response.completed.is_(True)]
    if since is not None:
        where.append(Response.submitted_at >= since)
    if until is not None:
        where.append(Response.submitted_at < until)
    return where


def _expectation_survey():
    return exists().where(Question.survey_version_id == Response.survey_version_id, Question.key == MARKER)


def expectation_counts(session: Session, since: datetime | None, until: datetime | None) -> list[tuple]:
    """(journey id, question key, option key, count) of every answer to an expectation survey's score choices."""
    sm = aliased(Moment, name="sm")
    stmt = (
        select(sm.journey_id, Answer.question_key, Answer.value_text, func.count())
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(SurveyVersion, SurveyVersion.id == Response.survey_version_id)
        .join(Survey, Survey.id == SurveyVersion.survey_id)
        .join(sm, sm.id == Survey.moment_id)
        .where(*_window(since, until), _expectation_survey(), Answer.value_text.is_not(None),
               or_(*(Answer.question_key.startswith(p, autoescape=True) for p in (IMPORTANCE, EXPECTED, PERCEIVED))))
        .group_by(sm.journey_id, Answer.question_key, Answer.value_text)
    )
    return [(int(j), str(k), str(v), int(n)) for j, k, v, n in session.execute(stmt).all()]


def paired_counts(session: Session, since: datetime | None, until: datetime | None) -> list[tuple]:
    """(dimension, expected option, perceived option, count) over respondents who answered both."""
    out = []
    a, b = aliased(Answer, name="ea"), aliased(Answer, name="pa")
    for dimension in DIMENSIONS:
        stmt = (
            select(a.value_text, b.value_text, func.count())
            .select_from(a)
            .join(b, and_(b.response_id == a.response_id, b.question_key == PERCEIVED + dimension))
            .join(Response, Response.id == a.response_id)
            .where(a.question_key == EXPECTED + dimension, a.value_text.is_not(None), b.value_text.is_not(None),
                   *_window(since, until), _expectation_survey())
            .group_by(a.value_text, b.value_text)
        )
        out += [(dimension, str(e), str(p), int(n)) for e, p, n in session.execute(stmt).all()]
    return out


def moment_perception(session: Session, since: datetime | None, until: datetime | None) -> dict[int, tuple]:
    """Per moment id: (n, sum, sum of squares) of its grades in the journey surveys."""
    mg, rc = aliased(Moment, name="mg"), aliased(Case, name="rc")
    value = Answer.value_num
    stmt = (
        select(mg.id, func.count(value), func.sum(value), func.sum(value * value))
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .outerjoin(rc, rc.id == Response.case_id)
        .join(mg, moment_match(mg, rc))
        .where(value.is_not(None), *_window(since, until))
        .group_by(mg.id)
    )
    return {int(m): (int(n), float(s or 0), float(q or 0)) for m, n, s, q in session.execute(stmt).all()}


def journeys_with_moments(session: Session) -> list[tuple[Journey, list[Moment]]]:
    journeys = session.scalars(select(Journey).order_by(Journey.id)).all()
    moments = session.scalars(select(Moment).order_by(Moment.journey_id, Moment.position)).all()
    return [(j, [m for m in moments if m.journey_id == j.id]) for j in journeys]
