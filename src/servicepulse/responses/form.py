"""Answers given on the public survey page: form values to typed answers, checks, storing. Never commits.

Checking is the survey's own (SurveySpec.check_answers, shared with the API
and the CSV import); this module adds what a web form needs: values arrive as
text, a respondent may save half an answer set and come back, and messages
must be in the respondent's language (the page maps each problem to a
catalogue message by question type).

Moment questions (score questions keyed ``moment_<moment key>``, which grade one
moment of a journey) may be answered "not applicable": the customer did not have
that moment. Such an answer is an ``answers`` row with no value at all (no grade,
so every count, mean and aggregate, which read ``value_num``, passes it by, and
the API reads it back as null); the page shows it chosen again. Questions the
page leaves out (``skip``: moments the case did not include) are neither asked
nor required, and whatever a form sends for them is ignored.

Anonymous links (who may start a response, the link back to it) are the
invitations domain's (``servicepulse.invitations``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.invitations import mark_responded
from servicepulse.models import Answer, Case, Invitation, Response, Survey, SurveyVersion
from servicepulse.responses import repository, service
from servicepulse.responses.aggregate import MOMENT_KEY_PREFIX
from servicepulse.responses.items import unsafe_text
from servicepulse.surveys import SCALES, SCORE_TYPES, SurveySpec

FIELD_PREFIX = "q_"
MAX_FIELD_CHARS = 20_000  # a form field far beyond any question's limit is refused before parsing
NOT_APPLICABLE = "na"  # the form value, and the answer value in memory, of "not applicable" on a moment question


@dataclass(frozen=True)
class FieldProblem:
    key: str  # question key
    code: str  # required | number | range | option | too_long | invalid
    values: dict


def spec_for_version(session: Session, version: SurveyVersion) -> SurveySpec:
    survey = session.get(Survey, version.survey_id)
    return SurveySpec.from_definition(version.definition, version.version, version.id, survey.moment_id)


def is_moment_question(question) -> bool:
    """A score question grading one moment of a journey: it may be answered "not applicable"."""
    return question.key.startswith(MOMENT_KEY_PREFIX) and question.type in SCORE_TYPES


def parse_form(spec: SurveySpec, form, skip=frozenset()) -> tuple[dict, list[FieldProblem]]:
    """Typed answers from form fields named q_<question key>; problems by question, in question order.
    A moment question answered "not applicable" has the value ``NOT_APPLICABLE``; questions in ``skip``
    (not asked) are passed by."""
    raw: dict = {}
    not_applicable: dict = {}
    problems: list[FieldProblem] = []
    for key, question in spec.questions.items():
        if key in skip:
            continue
        name = FIELD_PREFIX + key
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        if any(len(v) > MAX_FIELD_CHARS or unsafe_text(v) for v in values):
            problems.append(FieldProblem(key, "invalid", {}))
            continue
        if values and values[-1].strip() == NOT_APPLICABLE and is_moment_question(question):
            not_applicable[key] = NOT_APPLICABLE
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
        if key in bad or key not in spec.questions or key in skip or key in not_applicable:
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
    clean.update(not_applicable)
    clean = {key: clean[key] for key in order if key in clean}
    return clean, problems


def only_required_missing(problems: list[FieldProblem]) -> bool:
    return all(p.code == "required" for p in problems)


def saved_answers(session: Session, response: Response | None) -> dict:
    if response is None:
        return {}
    out = {}
    for answer in session.scalars(select(Answer).where(Answer.response_id == response.id)):
        if answer.value_num is None and answer.value_text is None and answer.value_json is None:
            # a moment's "not applicable"; else an open answer whose text the retention policy removed
            if answer.question_key.startswith(MOMENT_KEY_PREFIX):
                out[answer.question_key] = NOT_APPLICABLE
        elif answer.value_json is not None:
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
    """Create or overwrite the one response of an invitation (or an anonymous submission), through the same
    writes as the API (``service.write_responses`` / ``service.rewrite_response``).

    A response once completed stays completed: a later partial save of a
    changed answer does not turn it back into an unfinished one. Answers
    ``NOT_APPLICABLE`` are stored as rows without a value, after the others.
    """
    not_applicable = [key for key, value in answers.items()
                      if value == NOT_APPLICABLE and is_moment_question(spec.questions[key])]
    answers = {key: value for key, value in answers.items() if key not in not_applicable}
    values = {"channel": channel, "language": language, "submitted_at": now,
              **spec.headline_scores(answers)}
    if response is None:
        case = session.get(Case, invitation.case_id) if invitation is not None and invitation.case_id else None
        external_id = f"invitation-{invitation.id}" if invitation is not None else f"web-{uuid.uuid4().hex}"
        row = {"external_id": external_id, "survey_version_id": spec.version_id,
               "invitation_id": invitation.id if invitation is not None else None,
               "customer_id": invitation.customer_id if invitation is not None else None,
               "case_id": case.id if case else None, "moment_id": spec.moment_id,
               "team_id": case.last_team_id if case else None, "created_at": now, "content_hash": None,
               "completed": completed, **values}
        written = service.write_responses(session, [row], {external_id: (spec, answers)}, now)
        if external_id in written:
            response = session.get(Response, written[external_id])
        else:  # a concurrent first save of the same invitation won the insert: this save changes that response
            response = session.scalar(select(Response).where(Response.external_id == external_id))
            _rewrite(session, response, spec, answers, values, completed, now)
    else:
        _rewrite(session, response, spec, answers, values, completed, now)
    # after the shared writes (which replace every answer row): no grade, so no aggregate delta either
    repository.insert_answers(session, [{"response_id": response.id, "question_key": key, "value_num": None,
                                         "value_text": None, "value_json": None} for key in not_applicable])
    if invitation is not None and response.completed:
        mark_responded(invitation, now)  # invitations owns the invitation's status
    session.flush()
    return response


def _rewrite(session: Session, response: Response, spec: SurveySpec, answers: dict, values: dict, completed: bool,
             now: datetime) -> None:
    first_completion = completed and not response.completed
    service.rewrite_response(session, response.id, values | {"completed": bool(response.completed or completed)},
                             spec, answers, now, newly_completed=first_completion)
