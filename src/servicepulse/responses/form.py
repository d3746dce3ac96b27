"""Answers given on the public survey page: form values to typed answers, checks, storing. Never commits.

Checking is the survey's own (SurveySpec.check_answers, shared with the API
and the CSV import); this module adds what a web form needs: values arrive as
text, a respondent may save half an answer set and come back, and messages
must be in the respondent's language (the page maps each problem to a
catalogue message by question type).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound
from servicepulse.responses.items import unsafe_text
from servicepulse.responses.service import answer_row
from servicepulse.invitations.tokens import hash_token, keyed_hash, new_token
from servicepulse.models import Answer, Case, Invitation, Response, Survey, SurveyVersion
from servicepulse.models.invitations import AnonymousLink, AnonymousSubmission
from servicepulse.surveys.scales import SCALES, SCORE_TYPES
from servicepulse.surveys.spec import SurveySpec

FIELD_PREFIX = "q_"
MAX_FIELD_CHARS = 20_000  # a form field far beyond any question's limit is refused before parsing


@dataclass(frozen=True)
class FieldProblem:
    key: str  # question key
    code: str  # required | number | range | option | too_long | invalid
    values: dict


def spec_for_version(session: Session, version: SurveyVersion) -> SurveySpec:
    survey = session.get(Survey, version.survey_id)
    return SurveySpec.from_definition(version.definition, version.version, version.id, survey.moment_id)


def parse_form(spec: SurveySpec, form) -> tuple[dict, list[FieldProblem]]:
    """Typed answers from form fields named q_<question key>; problems by question, in question order."""
    raw: dict = {}
    problems: list[FieldProblem] = []
    for key, question in spec.questions.items():
        name = FIELD_PREFIX + key
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        if any(len(v) > MAX_FIELD_CHARS or unsafe_text(v) for v in values):
            problems.append(FieldProblem(key, "invalid", {}))
            continue
        if question.type == "multi":
            if values:
                raw[key] = [v for v in values if v]
            continue
        value = values[-1].strip() if values and question.type != "text" else (values[-1] if values else "")
        if value == "" or (question.type == "text" and not value.strip()):
            continue
        if question.type in SCORE_TYPES:
            scale = SCALES[question.type]
            try:
                raw[key] = int(value)
            except ValueError:
                problems.append(FieldProblem(key, "number", {"low": scale.low, "high": scale.high}))
            continue
        raw[key] = value
    clean, found = spec.check_answers(raw)
    bad = {p.key for p in problems}
    for key, _message in found:
        if key in bad or key not in spec.questions:
            continue
        question = spec.questions[key]
        if key not in raw or raw.get(key) in ([], None):
            problems.append(FieldProblem(key, "required", {}))
        elif question.type in SCORE_TYPES:
            scale = SCALES[question.type]
            problems.append(FieldProblem(key, "range", {"low": scale.low, "high": scale.high}))
        elif question.type in ("single", "multi"):
            problems.append(FieldProblem(key, "option", {}))
        else:
            problems.append(FieldProblem(key, "too_long", {"length": len(raw[key]), "limit": question.max_length}))
        bad.add(key)
    order = list(spec.questions)
    problems.sort(key=lambda p: order.index(p.key))
    return clean, problems


def only_required_missing(problems: list[FieldProblem]) -> bool:
    return all(p.code == "required" for p in problems)


def saved_answers(session: Session, response: Response | None) -> dict:
    if response is None:
        return {}
    out = {}
    for answer in session.scalars(select(Answer).where(Answer.response_id == response.id)):
        if answer.value_json is not None:
            out[answer.question_key] = answer.value_json
        elif answer.value_text is not None:
            out[answer.question_key] = answer.value_text
        elif answer.value_num is not None:
            out[answer.question_key] = int(answer.value_num) if float(answer.value_num).is_integer() else answer.value_num
    return out


def invitation_response(session: Session, invitation: Invitation) -> Response | None:
    return session.scalar(select(Response).where(Response.invitation_id == invitation.id))


def store(session: Session, spec: SurveySpec, answers: dict, *, completed: bool, now: datetime, language: str,
          channel: str, response: Response | None = None, invitation: Invitation | None = None) -> Response:
    """Create or overwrite the one response of an invitation (or an anonymous submission).

    A response once completed stays completed: a later partial save of a
    changed answer does not turn it back into an unfinished one.
    """
    from servicepulse.metrics.repository import add_to_daily_counts

    first_completion = completed and (response is None or not response.completed)
    if response is not None:  # take its old answers out of the metric aggregate; added back below
        add_to_daily_counts(session, [response.id], -1)
    if response is None:
        case = session.get(Case, invitation.case_id) if invitation is not None and invitation.case_id else None
        response = Response(
            external_id=f"invitation-{invitation.id}" if invitation is not None else f"web-{uuid.uuid4().hex}",
            survey_version_id=spec.version_id, invitation_id=invitation.id if invitation is not None else None,
            customer_id=invitation.customer_id if invitation is not None else None,
            case_id=case.id if case else None, moment_id=spec.moment_id, team_id=case.last_team_id if case else None,
            created_at=now, completed=False,
        )
        session.add(response)
    response.channel = channel
    response.language = language
    response.submitted_at = now
    response.completed = bool(response.completed or completed)
    for column, value in spec.headline_scores(answers).items():
        setattr(response, column, value)
    session.flush()
    session.execute(delete(Answer).where(Answer.response_id == response.id))
    for key, value in answers.items():
        session.add(Answer(**answer_row(response.id, key, spec.questions[key].type, value)))
    if invitation is not None and response.completed:
        invitation.status = "responded"
        invitation.responded_at = invitation.responded_at or now
    session.flush()
    add_to_daily_counts(session, [response.id])
    if first_completion:
        _notify(session, response.id, now)
    return response


def _notify(session: Session, response_id: int, now: datetime) -> None:
    """A newly completed response: webhook, alert rules and verbatim analysis, as for the API."""
    from servicepulse.responses.service import after_new_responses

    after_new_responses(session, [response_id], now)


# --- anonymous links -------------------------------------------------------------------------------


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
    """May this address start another anonymous response now?"""
    since = now - timedelta(minutes=link.window_minutes)
    used = session.scalar(
        select(func.count()).select_from(AnonymousSubmission)
        .where(AnonymousSubmission.link_id == link.id, AnonymousSubmission.address_hash == keyed_hash(secret, address),
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
