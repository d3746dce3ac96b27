"""/api/v1/surveys: list surveys, read one definition, create or version a survey."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from servicepulse.http.auth import needs
from servicepulse.http.deps import DbSession, WriteSession
from servicepulse.surveys import service
from servicepulse.surveys.definition import KEY_PATTERN, SurveyDefinition

router = APIRouter(tags=["surveys"])


class QuestionSummary(BaseModel):
    key: str
    type: str
    required: bool


class SurveySummary(BaseModel):
    key: str
    name: str
    active: bool
    moment: str | None
    version: int | None
    versions: list[int]
    languages: list[str]
    questions: list[QuestionSummary]


class SurveySaved(BaseModel):
    key: str
    version: int
    status: str  # created, new_version, unchanged


class SurveyVersionOut(BaseModel):
    key: str
    version: int
    definition: SurveyDefinition


@router.get("/surveys", dependencies=[needs("read:surveys")], summary="List surveys with their versions, moments and question keys",
            response_model=list[SurveySummary])
def list_surveys(session: DbSession):
    return JSONResponse(service.list_surveys(session))


@router.get("/surveys/{key}", dependencies=[needs("read:surveys")], summary="The newest version of one survey", response_model=SurveyVersionOut,
            responses={404: {"description": "No survey with this key"}})
def get_survey(session: DbSession, key: Annotated[str, Path(max_length=80, pattern=KEY_PATTERN)]):
    version = service.current_version(session, key)
    return JSONResponse({"key": key, "version": version.version, "definition": version.definition})


@router.post(
    "/surveys", dependencies=[needs("admin")],
    summary="Create a survey, or add a version when the definition changed",
    description="A definition identical to the newest version changes nothing (200, status `unchanged`).",
    status_code=201,
    response_model=SurveySaved,
    responses={200: {"description": "Unchanged", "model": SurveySaved}, 400: {"description": "The body is not JSON"},
               422: {"description": "Validation failed"}},
)
def post_survey(session: WriteSession, definition: SurveyDefinition):
    change = service.upsert_survey(session, definition.model_dump(mode="json", exclude_none=True))
    body = {"key": change.version.survey.key, "version": change.version.version, "status": change.status}
    return JSONResponse(body, status_code=200 if change.status == "unchanged" else 201)
