"""Error pages: people get a page in their language, never a traceback."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servicepulse.errors import (
    DatabaseUnavailable,
    NotFound,
    ServicepulseError,
    ValidationFailed,
)
from servicepulse.http.access_log import redact_path
from servicepulse.http.auth import Forbidden, LoginRequired
from servicepulse.http.csrf import CsrfRefused
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render_error

log = logging.getLogger(__name__)

# status -> catalogue keys of the title and the explanation
_TEXTS = {
    400: ("web.error.400.title", "web.error.400.text"),
    403: ("web.error.403.title", "web.error.403.text"),
    404: ("web.error.404.title", "web.error.404.text"),
    405: ("web.error.405.title", "web.error.405.text"),
    503: ("web.error.503.title", "web.error.503.text"),
    500: ("web.error.500.title", "web.error.500.text"),
}


def error_page(request: Request, status: int, text_key: str | None = None, detail: str | None = None,
               problems: list[tuple[str, str]] | None = None):
    title_key, default_text = _TEXTS.get(status, _TEXTS[500 if status >= 500 else 400])
    try:
        return render_error(request, {
            "status": status, "title_key": title_key, "text_key": text_key or default_text,
            "detail": detail, "problems": problems or [],
        }, status_code=status)
    except Exception:  # the error page itself must never fail
        log.exception("rendering the error page failed")
        return PlainTextResponse(f"Error {status}", status_code=status)


def _english_only(request: Request, message: str, dutch: str | None = None) -> str | None:
    """An error's own message is the code's English: shown on English pages; on a Dutch page `dutch` (a catalogue
    key) or nothing, the page's own text for the status then says enough (ParamError's messages are translated)."""
    language = request_language(request)
    if language == "en":
        return message
    return request.app.state.catalogue.translate(dutch, language) if dutch and message else None


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired):
        return RedirectResponse("/login?" + urlencode({"next": exc.next_path}), status_code=303)

    @app.exception_handler(Forbidden)
    def _forbidden(request: Request, exc: Forbidden):
        return error_page(request, 403)

    @app.exception_handler(CsrfRefused)
    def _csrf(request: Request, exc: CsrfRefused):
        return error_page(request, 403, "web.error.csrf.text")

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in (404, 405) else None
        response = error_page(request, exc.status_code, detail=detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError):
        problems = [(".".join(str(p) for p in e.get("loc", ())[1:]) or "-", _english_only(request, e.get("msg", ""), "web.error.invalid_value"))
                    for e in exc.errors()]
        return error_page(request, 400, problems=problems)

    @app.exception_handler(ValidationFailed)
    def _failed(request: Request, exc: ValidationFailed):
        if callable(getattr(exc, "text", None)):  # http.params.ParamError (which imports this module): translated
            text = exc.text(request)
            return error_page(request, 400, detail=text, problems=[(exc.field, text)])
        return error_page(request, 400, detail=_english_only(request, str(exc)),
                          problems=[(field, _english_only(request, message, "web.error.invalid_value")) for field, message in exc.problems])

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound):
        return error_page(request, 404, detail=_english_only(request, str(exc)))

    @app.exception_handler(DatabaseUnavailable)
    def _down(request: Request, exc: DatabaseUnavailable):
        log.error("database unavailable: %s", exc)
        return error_page(request, 503)

    @app.exception_handler(ServicepulseError)
    def _other(request: Request, exc: ServicepulseError):
        return error_page(request, 400, detail=_english_only(request, str(exc)))

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, redact_path(request.url.path), exc_info=exc)
        return error_page(request, 500)
