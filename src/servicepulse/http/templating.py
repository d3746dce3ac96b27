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
* ``when(moment, time=True)`` - a moment in the organisation's time zone (the setting
  ``time_zone``, default Europe/Amsterdam) and the language's words: 'di 3 nov 2026 16:00' /
  'Tue 3 Nov 2026 16:00'
* the filter ``codes``: a message's `backquoted` parts (YAML keys, settings) as <code>, the rest escaped
* ``day_text(value, weekday=False)`` - a calendar day: '5 okt 2026'; ``month_text(value)`` - 'oktober 2026' (a date or ISO text)
* ``label(prefix, value, default=None)`` - the name of a stored value (an activity, a channel, a department, a
  case fact) under ``prefix`` ('labels.channel', 'email' -> 'e-mail'): the organisation's display name
  (org/display_names.py), else the catalogue's, else ``default``, else the value as stored;
  ``names_version()`` a fingerprint of the display names, for the URL of an image that shows them
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
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

from servicepulse.db.session import UnitOfWork
from servicepulse.http.csrf import CSRF_FIELD, csrf_token
from servicepulse.http.i18n import LANGUAGES, Catalogue, request_language
from servicepulse.http.nav import NavEntry
from servicepulse.org.display_names import DisplayNames, load_display_names

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
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATE_DIR), PrefixLoader(domain_template_dirs())]),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        undefined=StrictUndefined,  # a typo in a template fails the test, not silently in production
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["codes"] = code_marked
    return environment


_BACKQUOTED = re.compile(r"`([^`]+)`")


def code_marked(text: str) -> Markup:
    """'set `SERVICEPULSE_X`' -> 'set <code>SERVICEPULSE_X</code>', everything else escaped: names a user types
    (YAML keys, settings) stay as they are in either language, and look like what they are."""
    parts = _BACKQUOTED.split(str(text))
    return Markup("").join(escape(part) if i % 2 == 0 else Markup("<code>%s</code>") % part
                           for i, part in enumerate(parts))


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


DISPLAY_TIMEZONE = ZoneInfo("Europe/Amsterdam")  # the default of the setting time_zone


def format_moment(moment: datetime | None, language: str, catalogue: Catalogue, time: bool = True,
                  zone: ZoneInfo = DISPLAY_TIMEZONE) -> str:
    """Stored in UTC, shown as the organisation's wall clock (`zone`)."""
    if moment is None:
        return "–"
    if moment.tzinfo is None:  # SQLite hands some aggregates back naive; they are UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    day = catalogue.translate(f"web.day.{local.weekday()}", language)
    month = catalogue.translate(f"web.month.{local.month}", language)
    text = f"{day} {local.day} {month} {local.year}"
    return f"{text} {local:%H:%M}" if time else text


def format_month(month: str, language: str, catalogue: Catalogue) -> str:
    """'2026-10' -> 'oktober 2026' / 'October 2026' (the text as given when it is not a month)."""
    year, _, number = str(month).partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return str(month)
    return f"{catalogue.translate(f'web.month_name.{int(number)}', language)} {year}"


def format_day(value, language: str, catalogue: Catalogue, weekday: bool = False) -> str:
    """A calendar day (a date or '2026-10-05') in the language's words: '5 okt 2026' / '5 Oct 2026', with
    `weekday` 'ma 5 okt 2026' / 'Mon 5 Oct 2026'."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    text = f"{day.day} {catalogue.translate(f'web.month.{day.month}', language)} {day.year}"
    return f"{catalogue.translate(f'web.day.{day.weekday()}', language)} {text}" if weekday else text


def stored_label(catalogue: Catalogue, prefix: str, value, language: str) -> str:
    """A stored value's name in `language`: the catalogue's ``<prefix>.<value>`` when it has one, else the value."""
    if value is None or value == "":
        return "–"
    key = f"{prefix}.{value}"
    return catalogue.translate(key, language) if key in catalogue.messages else str(value)


# label() prefixes whose values have editable display names (org/display_names.py), and where the shipped names
# of a kind live when not under the prefix itself (case facts are named in cases.yaml)
DISPLAY_NAME_KINDS = {"labels.activity": "activity", "labels.channel": "channel",
                      "labels.department": "department", "labels.fact": "fact"}
SHIPPED_PREFIXES = {"labels.fact": ("labels.fact", "cases.fact")}


def display_names(request: Request) -> DisplayNames:
    """The display names, read once per request (on first use) and held for the rest of it."""
    names = getattr(request.state, "display_names", None)
    if names is None:
        with UnitOfWork(request.app.state.engine, readonly=True) as session:
            names = load_display_names(session)
        request.state.display_names = names
    return names


def display_label(request: Request, prefix: str, value, language: str, default: str | None = None) -> str:
    """A stored value's name in `language`: the organisation's display name, else the shipped name in the
    catalogue, else `default`, else the value as stored."""
    if value is None or value == "":
        return "–"
    kind = DISPLAY_NAME_KINDS.get(prefix)
    if kind is not None and (name := display_names(request).name(kind, value, language)):
        return name
    catalogue: Catalogue = request.app.state.catalogue
    for shipped in SHIPPED_PREFIXES.get(prefix, (prefix,)):
        if f"{shipped}.{value}" in catalogue.messages:
            return catalogue.translate(f"{shipped}.{value}", language)
    return str(value) if default is None else str(default)


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
    zone = state.settings.zone()

    def t(key: str, **values) -> str:
        return catalogue.translate(key, language, **values)

    def csrf_field() -> Markup:
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token(request))}">')

    visible = [e for e in state.nav if _visible(e, user)]
    # the closest entry only: /expectations/signals is "Signals", not also "Expectations"
    closest = max((e.path for e in visible if _is_current(e, path)), key=len, default=None)
    nav = [{"path": e.path, "label": t(e.label), "current": e.path == closest} for e in visible]
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
        "when": lambda moment, time=True: format_moment(moment, language, catalogue, time, zone),
        "label": lambda prefix, value, default=None: display_label(request, prefix, value, language, default),
        "names_version": lambda: display_names(request).version,
        "day_text": lambda value, weekday=False: format_day(value, language, catalogue, weekday),
        "month_text": lambda value: format_month(str(value)[:7], language, catalogue),
    }


def render_error(request: Request, context: dict[str, Any], status_code: int,
                 headers: dict[str, str] | None = None):
    """The error page (error.html) with the few names it needs and nothing of the menu, the user or the
    session: whatever made the page fail (a menu entry, a display name, the database) cannot fail it too."""
    catalogue: Catalogue = request.app.state.catalogue
    language = request_language(request)
    try:  # the session's token for the language switch and logout; without one the page shows neither
        token = csrf_token(request)
    except Exception:  # noqa: BLE001 - whatever failed, the error page still renders
        token = None
    path = request.url.path
    full = {"request": request, "lang": language, "languages": LANGUAGES,
            "organisation_name": request.app.state.settings.organisation_name,
            "user": getattr(request.state, "user", None), "csrf_value": token, "csrf_name": CSRF_FIELD,
            "current_url": path + (f"?{request.url.query}" if request.url.query else ""),
            "t": lambda key, **values: catalogue.translate(key, language, **values), **context}
    return request.app.state.templates.TemplateResponse(request, "error.html", full, status_code=status_code,
                                                        headers=headers)


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None):
    """Render a page; the view's own context wins over the shared names."""
    full = base_context(request)
    full.update(context or {})
    return request.app.state.templates.TemplateResponse(request, template, full, status_code=status_code, headers=headers)
