"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error body has ``type``, ``title``, ``status`` and ``detail``; input
errors add ``errors``: a list of ``{"location", "field", "message"}`` naming
each rejected field (``location`` is body, query, path or header when known).

A client whose Accept-Language asks for Dutch gets every problem in Dutch, whatever its status and wherever
it was raised (`ProblemLanguage`, installed on the API app, and `problem(..., language=)` for answers given
before it, such as the body-size limit's 413): the title per status, the detail by recognising the code's
English message (`_KNOWN_DETAILS`, texts in ``http/i18n/problems.yaml``) or else a sentence per status,
with the code's own English text kept in ``detail_en`` so nothing specific is lost. The answer says
``Content-Language``.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    detail_en: str | None = None  # the code's English detail, when `detail` is a translation of its gist


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(status: int, detail: str, *, type_: str = "about:blank", title: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
            request: Request | None = None, language: str | None = None) -> ProblemResponse:
    """A problem+json answer; with `language` (other than English) its title and detail in that language."""
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
    if language and language != "en":
        body = localised(body, language)
        headers = {**(headers or {}), "Content-Language": language}
    return ProblemResponse(body, status_code=status, headers=headers)


# The code's English details that a client reads most, recognised whole: (pattern, catalogue key under
# "problems.detail."); named groups fill the catalogue's text. Anything else gets the sentence for its status.
_KNOWN_DETAILS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(pattern, re.DOTALL), key) for pattern, key in (
    (r"an API key is required: send `Authorization: Bearer <key>`", "key_required"),
    (r"the API key is unknown or revoked", "key_unknown"),
    (r"this API key lacks the scope (?P<scope>\S+) \(or its user's role does not allow it\)", "key_scope"),
    (r"this key lacks the admin scope", "key_admin"),
    (r"erasure and export are for admins: use a key made for an active admin", "admins_only"),
    (r"the request body is larger than the limit of (?P<bytes>\d+) bytes", "too_large"),
    (r"there is no case '(?P<what>[^']*)'", "no_case"),
    (r"there is no response with external_id '(?P<what>[^']*)'", "no_response"),
    (r"(?:survey|journey|trigger rule) '?(?P<what>[^' ]*)'? does not exist", "no_such"),
    (r"Not Found", "not_found"),
    (r"Method Not Allowed", "method"),
    (r"There was an error parsing the body", "body"),
    (r"a number in the request is out of the range that can be stored", "out_of_range"),
    (r"the database is not reachable; try again later", "database"),
    (r"an unexpected error occurred; it has been logged", "crash"),
    (r"nothing was stored: .*", "nothing_stored"),
    (r"at most (?P<n>\d+) events per request", "too_many_events"),
    (r"the body must be one event object or a list of them", "event_body"),
))


def localised(body: dict[str, Any], language: str) -> dict[str, Any]:
    """A problem body with its title and detail in `language` (the English one unchanged)."""
    if language == "en" or body.get("detail_en") is not None:
        return body
    catalogue = load_catalogue()
    status = int(body.get("status") or 500)
    out = dict(body)
    title_key = f"problems.title.{status}" if f"problems.title.{status}" in catalogue.messages else \
        ("problems.title.4xx" if status < 500 else "problems.title.5xx")
    out["title"] = catalogue.translate(title_key, language)
    detail = str(body.get("detail") or "")
    for pattern, key in _KNOWN_DETAILS:
        found = pattern.fullmatch(detail)
        if found:
            out["detail"] = catalogue.translate(f"problems.detail.{key}", language, **found.groupdict())
            break
    else:
        generic = f"problems.status.{status}" if f"problems.status.{status}" in catalogue.messages else \
            ("problems.status.4xx" if status < 500 else "problems.status.5xx")
        out["detail"] = catalogue.translate(generic, language)
    if detail and out["detail"] != detail:
        out["detail_en"] = detail
    return out


class ProblemLanguage:
    """Puts every problem+json answer of the app it wraps into the client's language (Accept-Language)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = parse_accept_language(Headers(scope=scope).get("accept-language")) or "en"
        if language == "en":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def translating_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if headers.get("content-type", "").startswith(PROBLEM_MEDIA_TYPE) and "content-language" not in headers:
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await send_localised(start, b"".join(chunks))
            else:
                await send(message)

        async def send_localised(message: Message, raw: bytes) -> None:
            try:
                body = json.dumps(localised(json.loads(raw), language), ensure_ascii=False).encode("utf-8")
            except (ValueError, TypeError, AttributeError, KeyError, IndexError):  # not the JSON we wrote: pass it on as it is
                body = raw
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            headers += [(b"content-length", str(len(body)).encode()), (b"content-language", language.encode())]
            await send({**message, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, translating_send)


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
    app.add_middleware(ProblemLanguage)

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
        # answered by the outermost middleware, outside ProblemLanguage: in the client's language here
        return problem(500, "an unexpected error occurred; it has been logged", request=request,
                       language=api_language(request))
