"""The administrator's pages of survey definitions (/admin/surveys): every survey with its versions, one
version readable (questions, wordings in each language, options, the 'why' prompts and their conditions,
the moment), the version's file (YAML, JSON), and uploading a new version as a YAML or JSON file.

An upload goes through the same validation as `servicepulse survey load` and POST /api/v1/surveys
(`surveys.definition.normalise`, then the moment's existence in `surveys.service.upsert_survey`); each
problem is shown with its place in the file, in the reader's language (servicepulse/http/form_problems.py).
A definition equal to the newest version changes nothing; a changed one becomes a new version (answers keep
pointing at the version they were given to). Audited as "survey.upload".

Who sees it: administrators and analysts read; administrators upload. It holds no personal data."""

from __future__ import annotations

import json
import re
from typing import Annotated

import yaml
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy import select

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.form_problems import FieldProblem, field_problems
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.models import Journey, Moment, Survey, SurveyVersion
from servicepulse.org import record_audit
from servicepulse.surveys.loader import MAX_FILE_BYTES
from servicepulse.surveys.scales import SCALES
from servicepulse.surveys.service import list_surveys, upsert_survey
from servicepulse.surveys.spec import why_question_key

router = APIRouter(prefix="/admin/surveys", dependencies=[Depends(require_role("admin", "analyst"))])
Admin = Depends(require_role("admin"))
UPLOAD_STATUSES = ("created", "new_version", "unchanged")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _moments(session) -> list[dict]:
    rows = session.execute(select(Journey.key, Moment.key, Moment.name_nl, Moment.name_en, Journey.name_nl,
                                  Journey.name_en).join(Moment, Moment.journey_id == Journey.id)
                           .order_by(Journey.id, Moment.position)).all()
    return [{"ref": f"{jk}/{mk}", "nl": mnl, "en": men, "journey_nl": jnl, "journey_en": jen}
            for jk, mk, mnl, men, jnl, jen in rows]


def _list_page(request: Request, session, user, *, problems: list[FieldProblem] | None = None,
               uploaded: dict | None = None, filename: str = "", status_code: int = 200):
    moments = {m["ref"]: m for m in _moments(session)}
    return render(request, "surveys/definitions.html", {
        "surveys": list_surveys(session), "moments": moments, "problems": problems or [], "uploaded": uploaded,
        "filename": filename, "may_upload": user.role == "admin", "max_kb": MAX_FILE_BYTES // 1000},
        status_code=status_code)


@router.get("")
def definitions_page(request: Request, session: DbSession, user: CurrentUser):
    return _list_page(request, session, user)


def _version(session, key: str, number: int | None) -> tuple[Survey, SurveyVersion]:
    survey = session.scalar(select(Survey).where(Survey.key == key))
    versions = survey.versions if survey is not None else []
    chosen = versions[-1] if versions and number is None else next((v for v in versions if v.version == number), None)
    if chosen is None:
        raise NotFound(f"survey {key!r} has no version {number}" if number else f"survey {key!r} does not exist")
    return survey, chosen


def _readable(definition: dict, language: str, organisation: str) -> list[dict]:
    """Each question as the page shows it: its wording in each language (the standard wording of a score
    question without its own text), its options and prompts."""
    why = why_question_key(definition)
    out = []
    for number, q in enumerate(definition.get("questions", []), start=1):
        texts = {}
        for lang in definition.get("languages", ["nl", "en"]):
            own = (q.get("text") or {}).get(lang)
            standard = SCALES[q["type"]].text[lang] if q["type"] in SCALES else None
            texts[lang] = {"text": (own or standard or "").replace("{organisation}", organisation),
                           "standard": own is None and standard is not None}
        scale = SCALES.get(q["type"])
        out.append({"number": number, "key": q["key"], "type": q["type"], "required": bool(q.get("required")),
                    "texts": texts, "options": q.get("options") or [], "prompts": q.get("prompt_by_score") or [],
                    "why": q["key"] == why, "max_length": q.get("max_length"),
                    "scale": (scale.low, scale.high, scale.low_label[language], scale.high_label[language])
                    if scale else None})
    return out


@router.get("/{survey_key}")
def version_page(request: Request, session: DbSession, survey_key: params.PathKey,
                 version: Annotated[int | None, Query(ge=1, le=params.MAX_ID)] = None):
    survey, chosen = _version(session, survey_key, version)
    definition = chosen.definition
    language = request_language(request)
    moment = next((m for m in _moments(session) if m["ref"] == definition.get("moment")), None)
    return render(request, "surveys/definition.html", {
        "survey": survey, "chosen": chosen, "definition": definition, "moment": moment,
        "versions": [(v.version, v.created_at) for v in survey.versions],
        "questions": _readable(definition, language, request.app.state.settings.organisation_name)})


@router.get("/{survey_key}/definition.{kind}")
def version_file(session: DbSession, survey_key: params.PathKey, kind: str,
                 version: Annotated[int | None, Query(ge=1, le=params.MAX_ID)] = None):
    """The version as a file to edit and upload again (YAML) or for machines (JSON)."""
    if kind not in ("yaml", "json"):
        raise NotFound(f"there is no {params.shown(kind)!r} file of a survey; ask for .yaml or .json")
    survey, chosen = _version(session, survey_key, version)
    if kind == "json":
        body, media = json.dumps(chosen.definition, ensure_ascii=False, indent=2), "application/json"
    else:
        body = yaml.safe_dump(chosen.definition, allow_unicode=True, sort_keys=False, width=100)
        media = "application/x-yaml"
    name = f"{survey.key}-v{chosen.version}.{kind}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _parse_upload(data: bytes, filename: str) -> dict:
    """The file's definition, as `surveys.loader.read_definition_file` reads one; ValidationFailed with the
    code of a catalogue message (``admin.survey.file.*``) for a file that cannot be read at all."""
    if not data:
        raise ValidationFailed("no file", [("file", "file:empty")])
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed("too large", [("file", "file:too_large")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("not UTF-8", [("file", "file:not_utf8")]) from None
    if CONTROL.search(text):  # a NUL byte cannot be stored (PostgreSQL), and no survey text needs one
        raise ValidationFailed("control characters", [("file", "file:control")])
    try:
        parsed = json.loads(text) if filename.lower().endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("JSON", [("file", f"file:json|{exc.lineno}|{exc.colno}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"|{mark.line + 1}|{mark.column + 1}" if mark else "|?|?"
        raise ValidationFailed("YAML", [("file", "file:yaml" + where)]) from None
    except RecursionError:  # '[' * 100000: deeper than the parsers go
        raise ValidationFailed("too deep", [("file", "file:too_deep")]) from None
    if not isinstance(parsed, dict):
        raise ValidationFailed("not a mapping", [("file", "file:not_mapping")])
    return parsed


def _problems(request: Request, problems) -> list[FieldProblem]:
    t, language = request.app.state.catalogue.translate, request_language(request)
    out = []
    for where, message in problems:
        if str(message).startswith("file:"):
            code, *values = str(message)[5:].split("|")
            place = {"line": values[0], "column": values[1]} if values else {}
            out.append(FieldProblem(str(where), t(f"admin.survey.file.{code}", language, **place)))
        else:
            out.extend(field_problems(request, [(where, message)]))
    return out


@router.post("", dependencies=[Admin])
def upload(request: Request, session: DbSession, me: CurrentUser, file: Annotated[UploadFile | None, File()] = None):
    filename = params.shown((file.filename or "") if file is not None else "")
    try:
        data = file.file.read(MAX_FILE_BYTES + 1) if file is not None else b""
        raw = _parse_upload(data, filename)
        change = upsert_survey(session, raw)
    except ValidationFailed as exc:
        session.rollback()
        return _list_page(request, session, me, problems=_problems(request, exc.problems), filename=filename,
                          status_code=422)
    key, number = change.version.survey.key, change.version.version
    record_audit(session, f"user:{me.id}", "survey.upload", {"survey": key, "version": number,
                                                             "status": change.status})
    return _list_page(request, session, me, uploaded={"key": key, "version": number, "status": change.status},
                      filename=filename)
