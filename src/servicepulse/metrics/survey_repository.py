"""Aggregates for the survey dashboard, in SQL (portable: GROUP BY and COUNT only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from servicepulse.kernels.text import redact
from servicepulse.models import Invitation, Response, Survey, SurveyVersion
from servicepulse.models.invitations import DECISION_REASONS, TriggerDecision, TriggerRule
from servicepulse.surveys import SCORE_TYPES
from servicepulse.verbatims import VerbatimSettings

SENT_STATUSES = ("sent", "responded", "expired")


@dataclass(frozen=True)
class SurveyTotals:
    survey_id: int
    key: str
    name: str
    active: bool
    invitations_sent: int
    invitations_answered: int  # completed responses to a sent invitation
    responses: int  # completed responses from every channel (e-mail, web, API, CSV)
    saved: int = 0  # answers saved but not sent yet: shown apart, counted nowhere until sent


@dataclass(frozen=True)
class Verbatim:
    submitted_at: datetime
    channel: str | None
    language: str | None
    scores: dict
    comment: str
    response_id: int | None = None  # for the link to the customer page at this answer


def _versions(survey_id=None):
    query = select(SurveyVersion.id)
    return query.where(SurveyVersion.survey_id == survey_id) if survey_id is not None else query


def totals(session: Session, survey_id: int | None = None) -> list[SurveyTotals]:
    sent = (
        select(SurveyVersion.survey_id.label("survey_id"), func.count(Invitation.id).label("n"))
        .join(Invitation, Invitation.survey_version_id == SurveyVersion.id)
        .where(Invitation.sent_at.is_not(None), Invitation.status.in_(SENT_STATUSES))
        .group_by(SurveyVersion.survey_id).subquery()
    )
    answered = (
        select(SurveyVersion.survey_id.label("survey_id"),
               func.sum(case((Response.completed.is_(True), 1), else_=0)).label("n"),
               func.sum(case((Response.completed.is_(True) & Response.invitation_id.is_not(None), 1), else_=0))
               .label("via_invitation"),
               func.sum(case((Response.completed.is_(True), 0), else_=1)).label("saved"))
        .join(Response, Response.survey_version_id == SurveyVersion.id)
        .group_by(SurveyVersion.survey_id).subquery()
    )
    query = (
        select(Survey.id, Survey.key, Survey.name, Survey.active, func.coalesce(sent.c.n, 0),
               func.coalesce(answered.c.via_invitation, 0), func.coalesce(answered.c.n, 0),
               func.coalesce(answered.c.saved, 0))
        .outerjoin(sent, sent.c.survey_id == Survey.id)
        .outerjoin(answered, answered.c.survey_id == Survey.id)
        .order_by(Survey.key)
    )
    if survey_id is not None:
        query = query.where(Survey.id == survey_id)
    return [SurveyTotals(*row[:4], int(row[4]), int(row[5]), int(row[6]), int(row[7])) for row in session.execute(query)]


def score_counts(session: Session, survey_id: int, score: str) -> dict[int, int]:
    """How many completed responses gave each value of one headline score (nps, grade, ces, csat)."""
    if score not in SCORE_TYPES:
        raise ValueError(f"unknown score {score!r}")
    column = getattr(Response, score)
    rows = session.execute(
        select(column, func.count()).where(Response.survey_version_id.in_(_versions(survey_id)),
                                           Response.completed.is_(True), column.is_not(None))
        .group_by(column)
    )
    return {int(value): int(n) for value, n in rows}


def latest_verbatims(session: Session, survey_id: int, limit: int = 10,
                     team_ids: frozenset[int] | None = None) -> list[Verbatim]:
    """The newest comments; `team_ids` (an Actor's visible teams, None = all) limits them to those teams."""
    stmt = (
        select(Response.submitted_at, Response.channel, Response.language, Response.nps, Response.grade,
               Response.ces, Response.csat, Response.comment, Response.id)
        .where(Response.survey_version_id.in_(_versions(survey_id)), Response.completed.is_(True),
               Response.comment.is_not(None), Response.comment != "")
    )
    if team_ids is not None:
        stmt = stmt.where(Response.team_id.in_(sorted(team_ids) or [-1]))
    rows = session.execute(
        stmt.order_by(Response.submitted_at.desc(), Response.id.desc()).limit(limit)
    )
    # Privacy first: comments are shown redacted, like everywhere else a comment is shown.
    patterns = VerbatimSettings().customer_patterns
    return [Verbatim(r.submitted_at, r.channel, r.language,
                     {k: getattr(r, k) for k in SCORE_TYPES if getattr(r, k) is not None},
                     redact(r.comment, patterns).text, r.id) for r in rows]


def decisions_by_reason(session: Session, survey_id: int) -> dict[str, int]:
    rows = session.execute(
        select(TriggerDecision.reason, func.count()).where(TriggerDecision.survey_id == survey_id)
        .group_by(TriggerDecision.reason)
    )
    counts = dict.fromkeys(DECISION_REASONS, 0)
    counts.update({reason: int(n) for reason, n in rows})
    return counts


def decisions_by_rule(session: Session, survey_id: int) -> list[tuple[str, str, int]]:
    return [
        (key, reason, int(n)) for key, reason, n in session.execute(
            select(TriggerRule.key, TriggerDecision.reason, func.count())
            .join(TriggerRule, TriggerRule.id == TriggerDecision.rule_id)
            .where(TriggerDecision.survey_id == survey_id)
            .group_by(TriggerRule.key, TriggerDecision.reason).order_by(TriggerRule.key, TriggerDecision.reason))
    ]
