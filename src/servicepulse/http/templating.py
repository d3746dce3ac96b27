"""Jinja2 environment and the `render` helper every page uses.

Templates live in ``http/templates/`` (the layout ``base.html`` and shared
pages) and in ``servicepulse/<domain>/templates/`` of any domain package,
addressed as ``"<domain>/<file>.html"``. Every template gets:

* ``t(key, **values)`` - the message in the request's language
* ``lang`` - "nl" or "en"; ``languages`` - the choices for the switch
* ``user`` - the logged-in User or None
* ``csrf_field()`` - the hidden CSRF input for a form; ``csrf_token()``
* ``nav`` - navigation entries the user may see, each with ``current``
* ``number(value, digits=1)`` - a number in the language's notation (7,5 / 7.5)
* ``when(moment, time=True)`` - a moment in the organisation's time zone and the
  language's words: 'di 3 nov 2026 16:00' / 'Tue 3 Nov 2026 16:00'
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup, escape

from servicepulse.http.csrf import CSRF_FIELD, csrf_token
from servicepulse.http.i18n import LANGUAGES, Catalogue, request_language
from servicepulse.http.nav import NavEntry

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = Path(__file__).parent / "templates"


def domain_template_dirs() -> dict[str, FileSystemLoader]:
    return {
        child.name: FileSystemLoader(child / "templates")
        for child in sorted(PACKAGE_DIR.iterdir())
        if child.is_dir() and child.name != "http" and (child / "templates").is_dir()
    }


@cache
def template_environment() -> Environment:
    """Every template: the shared ones by name, a domain's as "<domain>/<file>.html" (pages and PDF reports).

    One per process, so each template is compiled once (Jinja still reloads a template whose file changed)."""
    return Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATE_DIR), PrefixLoader(domain_template_dirs())]),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,  # a typo in a template fails the test, not silently in production
        trim_blocks=True,
        lstrip_blocks=True,
    )


def make_templates() -> Jinja2Templates:
    return Jinja2Templates(env=template_environment())


def format_number(value: float | int | None, language: str, digits: int = 1) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    if round(value, digits) == 0:
        value = 0  # no "-0": a value that rounds to zero is zero
    text = f"{value:,.{digits}f}"
    if language == "nl":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


DISPLAY_TIMEZONE = ZoneInfo("Europe/Amsterdam")  # stored in UTC, shown as the organisation's wall clock


def format_moment(moment: datetime | None, language: str, catalogue: Catalogue, time: bool = True) -> str:
    if moment is None:
        return "–"
    if moment.tzinfo is None:  # SQLite hands some aggregates back naive; they are UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(DISPLAY_TIMEZONE)
    day = catalogue.translate(f"web.day.{local.weekday()}", language)
    month = catalogue.translate(f"web.month.{local.month}", language)
    text = f"{day} {local.day} {month} {local.year}"
    return f"{text} {local:%H:%M}" if time else text


def _visible(entry: NavEntry, user) -> bool:
    return user is not None and (not entry.roles or user.role in entry.roles)


def _is_current(entry: NavEntry, path: str) -> bool:
    if entry.path == "/":
        return path == "/"
    return path == entry.path or path.startswith(entry.path.rstrip("/") + "/")


def base_context(request: Request) -> dict[str, Any]:
    state = request.app.state
    catalogue: Catalogue = state.catalogue
    language = request_language(request)
    user = getattr(request.state, "user", None)
    path = request.url.path

    def t(key: str, **values) -> str:
        return catalogue.translate(key, language, **values)

    def csrf_field() -> Markup:
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">')

    nav = [
        {"path": e.path, "label": t(e.label), "current": _is_current(e, path)}
        for e in state.nav if _visible(e, user)
    ]
    return {
        "request": request,
        "t": t,
        "lang": language,
        "languages": LANGUAGES,
        "user": user,
        "csrf_token": lambda: csrf_token(request),
        "csrf_field": csrf_field,
        "nav": nav,
        "current_path": path,
        "current_url": path + (f"?{request.url.query}" if request.url.query else ""),
        "organisation_name": state.settings.organisation_name,
        "number": lambda value, digits=1: format_number(value, language, digits),
        "when": lambda moment, time=True: format_moment(moment, language, catalogue, time),
    }


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None):
    """Render a page; the view's own context wins over the shared names."""
    full = base_context(request)
    full.update(context or {})
    return request.app.state.templates.TemplateResponse(request, template, full, status_code=status_code, headers=headers)
