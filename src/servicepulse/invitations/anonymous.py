"""Anonymous survey links: a survey open to anyone at /a/<survey key>, a per-address limit on starting
responses, and the link back to a started response (for changes). Never commits.

The invitations domain owns these tables; the survey page (servicepulse.public) asks here whether an
address may start a response and records the submission once the response exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.invitations.tokens import hash_token, keyed_hash, new_token
from servicepulse.models import Response, Survey, SurveyVersion
from servicepulse.models.invitations import AnonymousLink, AnonymousSubmission


@dataclass(frozen=True)
class AnonymousSurvey:
    link: AnonymousLink
    survey: Survey
    version: SurveyVersion


def enable_anonymous_link(session: Session, survey_key: str, per_address_limit: int = 5,
                          window_minutes: int = 60, enabled: bool = True) -> AnonymousLink:
    survey = session.scalar(select(Survey).where(Survey.key == survey_key))
    if survey is None:
        raise NotFound(f"survey {survey_key!r} does not exist")
    link = session.scalar(select(AnonymousLink).where(AnonymousLink.survey_id == survey.id))
    if link is None:
        link = AnonymousLink(survey_id=survey.id)
        session.add(link)
    link.enabled = enabled
    link.per_address_limit = per_address_limit
    link.window_minutes = window_minutes
    session.flush()
    return link


def anonymous_links(session: Session) -> list[tuple[Survey, AnonymousLink | None]]:
    """Every survey with its anonymous link (None: never opened), by name."""
    rows = session.execute(select(Survey, AnonymousLink).outerjoin(AnonymousLink, AnonymousLink.survey_id == Survey.id)
                           .order_by(Survey.name, Survey.key)).all()
    return [(survey, link) for survey, link in rows]


def anonymous_survey(session: Session, survey_key: str) -> AnonymousSurvey | None:
    row = session.execute(
        select(AnonymousLink, Survey).join(Survey, Survey.id == AnonymousLink.survey_id)
        .where(Survey.key == survey_key, AnonymousLink.enabled.is_(True), Survey.active.is_(True))
    ).first()
    if row is None:
        return None
    link, survey = row
    version = session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
                             .order_by(SurveyVersion.version.desc()).limit(1))
    return AnonymousSurvey(link, survey, version) if version else None


def address_allowance(session: Session, link: AnonymousLink, secret: str, address: str, now: datetime) -> bool:
    """May this address start another anonymous response now?

    The count and the submission recorded after it must not interleave with another request from the
    same address, or parallel answers all see the same count: on PostgreSQL a transaction-scoped
    advisory lock per link and address serialises them until the caller's unit of work ends; on SQLite
    the request's write transaction (BEGIN IMMEDIATE) already does."""
    address_hash = keyed_hash(secret, address)
    if session.get_bind().dialect.name == "postgresql":
        # Two int4 keys: the link, and 32 bits of the address hash (a rare collision only makes two
        # addresses wait for each other).
        session.execute(select(func.pg_advisory_xact_lock(link.id, int(address_hash[:8], 16) - 2**31)))
    since = now - timedelta(minutes=link.window_minutes)
    used = session.scalar(
        select(func.count()).select_from(AnonymousSubmission)
        .where(AnonymousSubmission.link_id == link.id, AnonymousSubmission.address_hash == address_hash,
               AnonymousSubmission.created_at > since))
    return used < link.per_address_limit


def start_anonymous(session: Session, link: AnonymousLink, secret: str, address: str, response: Response,
                    now: datetime) -> str:
    """Record the submission; returns the token of the link back to this response (for changes)."""
    token = new_token()
    session.add(AnonymousSubmission(link_id=link.id, address_hash=keyed_hash(secret, address), response_id=response.id,
                                    resume_hash=hash_token(token), created_at=now))
    session.flush()
    return token


def anonymous_response(session: Session, link: AnonymousLink, resume_token: str) -> Response | None:
    submission = session.scalar(select(AnonymousSubmission).where(
        AnonymousSubmission.link_id == link.id, AnonymousSubmission.resume_hash == hash_token(resume_token)))
    return session.get(Response, submission.response_id) if submission and submission.response_id else None
