"""Query-string and form values parsed with bounds, for the pages and the API of every domain.

A value the code cannot compute with or store (the year 1, 10**20, a NUL byte, 1e400 euros) is the
visitor's mistake: it gets a message naming the field, never a 500. And every request does bounded
work, so the bounds below are part of the contract (docs/architecture.md, Edges, "Bounds on input"):

* dates and moments in time lie from ``EARLIEST`` up to and including ``LATEST``;
* a date range with both ends given spans at most ``MAX_SPAN_DAYS`` (five years): the trend charts fill
  every period of the range, so a range of centuries would be centuries of empty periods;
* ids lie in the id columns' range (1 .. ``MAX_ID``), page numbers in 1 .. ``MAX_PAGE``;
* amounts in euros are finite, positive, with at most two decimals and at most ``MAX_EUROS``;
* free text holds no control characters (PostgreSQL refuses NUL; the others are never meant) and is
  at most a given length.

Page parsers raise `ParamError` (a `ValidationFailed`, so an uncaught one is still a 400 page or a 422
problem); `ParamError.text(request)` is its message in the visitor's language (catalogue ``params``).
The API declares its parameters with the ``Api*`` types, which FastAPI checks (422 naming the parameter).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import Path, Request
from pydantic import AfterValidator

from servicepulse.errors import ValidationFailed
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import load_catalogue, request_language

EARLIEST = date(1970, 1, 1)
LATEST = date(2100, 12, 31)
MAX_SPAN_DAYS = 1827  # five years (with two leap days)
MAX_SPAN_YEARS = 5
MAX_ID = 2**31 - 1  # the id columns are 32-bit on both databases
MAX_PAGE = 100_000
MAX_EUROS = 1_000_000  # a gesture or a budget beyond a million euros is a typing error
MAX_MIN_N = 1_000_000
SHOWN = 40  # characters of a rejected value repeated in a message
# Control characters (C0, DEL, C1); tab, newline and carriage return are allowed where text is multi-line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MONTH = re.compile(r"\d{4}-\d{2}")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def shown(value: object) -> str:
    """A rejected value as it may be repeated to a person: control characters made visible, cut short."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


class ParamError(ValidationFailed):
    """A query or form value that was refused; ``key`` names the message in the ``params`` catalogue."""

    def __init__(self, field: str, value: object, key: str, **values):
        self.field, self.value, self.key = field, value, key
        self.values = {"field": field, "value": shown(value), **values}
        english = load_catalogue().translate(f"params.{key}", "en", **self.values)
        super().__init__(english, [(field, english)])

    def text(self, request: Request) -> str:
        """The message in the visitor's language."""
        return request.app.state.catalogue.translate(f"params.{self.key}", request_language(request), **self.values)


def _bounds() -> dict:
    return {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()}


def parse_date(raw: str | None, field: str) -> date | None:
    """'2026-10-31' -> a date within the bounds; None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ParamError(field, raw, "date") from None
    if not EARLIEST <= value <= LATEST:
        raise ParamError(field, raw, "date_bounds", **_bounds())
    return value


def parse_month(raw: str | None, field: str = "month") -> tuple[date, date] | None:
    """'2026-10' -> (first day, first day of the next month); None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if not _MONTH.fullmatch(text):
            raise ValueError(text)
        start = date(int(text[:4]), int(text[5:]), 1)
    except ValueError:
        raise ParamError(field, raw, "month") from None
    if not EARLIEST <= start <= LATEST:
        raise ParamError(field, raw, "date_bounds", **_bounds())
    return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def parse_moment(raw: str | None, field: str) -> datetime | None:
    """An ISO 8601 date and time with an offset ('2026-10-31T12:00:00+01:00', 'Z' for UTC) -> aware UTC."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or value.utcoffset() is None:
        raise ParamError(field, raw, "moment")
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before the first representable moment
        value = None
    if value is None or not EARLIEST <= value.date() <= LATEST:
        raise ParamError(field, raw, "date_bounds", **_bounds())
    return value


def check_range(start: date | None, end: date | None, fields: tuple[str, str] = ("from", "to"),
                *, end_inclusive: bool = False) -> None:
    """Both ends given: the start before the end (or on it, when the end day is included) and at most
    ``MAX_SPAN_DAYS`` between them."""
    if start is None or end is None:
        return
    if end < start or (end == start and not end_inclusive):
        raise ParamError(fields[1], end.isoformat(), "order", start_field=fields[0], end_field=fields[1])
    if (end - start).days > MAX_SPAN_DAYS:
        raise ParamError(fields[1], end.isoformat(), "span", start=start.isoformat(), end=end.isoformat(),
                         years=MAX_SPAN_YEARS)


def parse_int(raw: str | None, field: str, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number (ASCII digits) within [low, high]; None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        if re.fullmatch(r"[+-]?[0-9]+", text):  # digits, but more of them than any bound allows
            raise ParamError(field, raw, "number_bounds", low=low, high=high)
        raise ParamError(field, raw, "number")
    value = int(text)
    if not low <= value <= high:
        raise ParamError(field, raw, "number_bounds", low=low, high=high)
    return value


def parse_page(raw: str | None, field: str = "page") -> int:
    """A page number, 1 when empty."""
    return parse_int(raw, field, low=1, high=MAX_PAGE) or 1


def parse_cents(raw: str | None, field: str = "amount", *, high_euros: int = MAX_EUROS, zero: bool = False) -> int:
    """An amount in euros ('12,50', '€ 12.50', '12') -> cents: finite, more than 0 (or 0 when ``zero``),
    two decimals at most."""
    text = (raw or "").replace("€", "").replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ParamError(field, raw, "amount") from None
    if not value.is_finite():  # nan, inf
        raise ParamError(field, raw, "amount")
    if not (0 <= value if zero else 0 < value) or value > high_euros:
        raise ParamError(field, raw, "amount_bounds", low="0" if zero else "0.01", high=high_euros)
    if value != value.quantize(Decimal("0.01")):  # 0.001 euro
        raise ParamError(field, raw, "amount")
    return int(value * 100)


def parse_number(raw: str | None, field: str, *, low: float, high: float) -> float | None:
    """A finite decimal number ('4,5') within [low, high]; None when empty."""
    text = (raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ParamError(field, raw, "decimal") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ParamError(field, raw, "number_bounds", low=f"{low:g}", high=f"{high:g}")
    return value


def clean_text(raw: str | None, field: str, *, limit: int = 200, multiline: bool = False) -> str | None:
    """Free text without control characters (tab and line breaks allowed when ``multiline``), stripped,
    at most ``limit`` characters; None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(text):
        raise ParamError(field, raw, "control")
    if len(text) > limit:
        raise ParamError(field, raw, "length", limit=limit)
    return text


# --- the API's parameter types: FastAPI answers a refused one with 422 problem+json naming it -------------

def _in_bounds(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"a date from {EARLIEST} to {LATEST}")
    return value


def _moment_in_bounds(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a date and time with a timezone offset, e.g. 2026-10-31T12:00:00+01:00")
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:  # before 0001-01-01 in UTC
        day = date.min
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"a moment from {EARLIEST} to {LATEST}")
    return value


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _plain_lines(value: str) -> str:
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("control characters other than tab and line breaks are not allowed")
    return value


ApiDate = Annotated[date, AfterValidator(_in_bounds)]
ApiMoment = Annotated[datetime, AfterValidator(_moment_in_bounds)]
ApiText = Annotated[str, AfterValidator(_plain_text)]  # one line
ApiLines = Annotated[str, AfterValidator(_plain_lines)]  # text that may hold tabs and line breaks


def check_moment_range(start: datetime | None, end: datetime | None, fields: tuple[str, str]) -> None:
    """Two moments, when both are given: the start before the end and at most ``MAX_SPAN_DAYS`` apart."""
    if start is None or end is None:
        return
    if end <= start:
        raise ParamError(fields[1], end.isoformat(), "order", start_field=fields[0], end_field=fields[1])
    if end - start > timedelta(days=MAX_SPAN_DAYS):
        raise ParamError(fields[1], end.isoformat(), "span", start=start.isoformat(), end=end.isoformat(),
                         years=MAX_SPAN_YEARS)


def refused_page(request: Request, exc: ParamError):
    """The 400 page for a refused parameter, its message in the visitor's language."""
    return error_page(request, 400, detail=exc.text(request))


# Path parameters of pages and API routes: an id past the id columns or a NUL byte in a key is refused
# before it reaches the database (a 400 page, or 422 problem+json).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
PathKey = Annotated[ApiText, Path(max_length=200)]
