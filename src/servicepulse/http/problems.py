"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error body has ``type``, ``title``, ``status`` and ``detail``; input
errors add ``errors``: a list of ``{"location", "field", "message"}`` naming
each rejected field (``location`` is body, query, path or header when known).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicepulse.errors import (
    DatabaseUnavailable,
    NotFound,
    ServicepulseError,
    ValidationFailed,
)
from servicepulse.http.i18n import load_catalogue, parse_accept_language

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
VALIDATION_TYPE = "urn:servicepulse:problem:validation-failed"


class FieldError(BaseModel):
    location: str | None = None
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(status: int, detail: str, *, type_: str = "about:blank", title: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
            request: Request | None = None) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=headers)


def api_language(request: Request) -> str:
    """The client's language by Accept-Language; English when it asks for none we have (the API's own)."""
    return parse_accept_language(request.headers.get("accept-language")) or "en"


def _message(err: dict, language: str) -> str:
    """pydantic's English message, or ours in `language` for its error type (a generic one for other types)."""
    if language == "en":
        return err.get("msg", "invalid")
    values = {"input": str(err.get("input", ""))[:80], **{k: str(v) for k, v in (err.get("ctx") or {}).items()}}
    if language == "nl" and "expected" in values:  # pydantic lists the choices as "'a', 'b' or 'c'"
        values["expected"] = values["expected"].replace(" or ", " of ")
    catalogue = load_catalogue()
    key = f"problems.type.{err.get('type')}"
    try:
        return catalogue.translate(key if key in catalogue.messages else "problems.type.other", language, **values)
    except (KeyError, IndexError, ValueError):  # a rule without the value our text names
        return catalogue.translate("problems.type.other", language)


def _field_errors(exc: RequestValidationError, language: str = "en") -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else None
        field = ".".join(loc[1:] if location else loc) or (location or "-")
        out.append({"location": location, "field": field, "message": _message(err, language)})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError):
        language = api_language(request)
        errors = _field_errors(exc, language)
        if language == "en":
            return problem(422, f"{len(errors)} field(s) rejected: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                           type_=VALIDATION_TYPE, title="Validation failed", errors=errors, request=request)
        catalogue = load_catalogue()
        detail = catalogue.translate("problems.rejected", language, n=len(errors)) + ": " + \
            "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, detail, type_=VALIDATION_TYPE, title=catalogue.translate("problems.title.validation", language),
                       errors=errors, request=request, headers={"Content-Language": language})

    @app.exception_handler(ValidationFailed)
    def _failed(request: Request, exc: ValidationFailed):
        errors = [{"location": None, "field": loc, "message": msg} for loc, msg in exc.problems]
        return problem(422, str(exc), type_=VALIDATION_TYPE, title="Validation failed", errors=errors, request=request)

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound):
        return problem(404, str(exc), request=request)

    @app.exception_handler(DatabaseUnavailable)
    def _down(request: Request, exc: DatabaseUnavailable):
        log.error("database unavailable: %s", exc)
        return problem(503, "the database is not reachable; try again later", request=request)

    @app.exception_handler(ServicepulseError)
    def _other(request: Request, exc: ServicepulseError):
        return problem(400, str(exc), request=request)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
        return problem(exc.status_code, detail, headers=exc.headers, request=request)

    # A number beyond what the database stores (e.g. an id past BIGINT in a path) is the
    # client's error, not ours: SQLite raises OverflowError, PostgreSQL a DataError.
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    def _out_of_range(request: Request, exc: Exception):
        return problem(422, "a number in the request is out of the range that can be stored", request=request)

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem(500, "an unexpected error occurred; it has been logged", request=request)
