"""The shape of one submitted response, checked before any database work.

Every problem names its place as a JSON pointer relative to the item
(``answers/nps``, ``submitted_at``) so the API can say ``/2/answers/nps`` and
the CSV import can say "row 4, column Score".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

FIELDS = ("external_id", "survey", "customer", "case", "submitted_at", "language", "channel", "answers")
REQUIRED = ("external_id", "survey", "customer", "submitted_at", "answers")
LANGUAGES = ("nl", "en")
MAX_LENGTHS = {"external_id": 120, "survey": 80, "customer": 100, "case": 100, "channel": 20}
MAX_ANSWERS = 100
# Submissions a little in the future are clock skew; more is a wrong timestamp.
FUTURE_TOLERANCE = timedelta(hours=24)
EARLIEST_YEAR = 2000


@dataclass
class Problem:
    index: int | None  # position in a batch; None for a single object
    field: str  # JSON pointer inside the item, without the leading slash
    message: str

    @property
    def pointer(self) -> str:
        return f"/{self.index}/{self.field}" if self.index is not None else f"/{self.field}"


@dataclass
class Item:
    index: int | None
    external_id: str
    survey: str
    customer: str
    case: str | None
    submitted_at: datetime  # UTC
    language: str
    channel: str
    answers: dict
    content_hash: str


def parse_item(raw, index: int | None, now: datetime, problems: list[Problem], default_channel: str = "api") -> Item | None:
    """Check one item's shape; append problems and return None when it is not usable."""
    before = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem(index, field, message))

    if not isinstance(raw, dict):
        bad("", "each response must be a JSON object with external_id, survey, customer, submitted_at and answers")
        return None
    for key in raw:
        if key not in FIELDS:
            bad(_escape(str(key)), f"unknown field {str(key)[:60]!r}; allowed fields are {', '.join(FIELDS)}")
    for key in REQUIRED:
        if raw.get(key) is None:
            bad(key, f"{key} is required")
    values = {}
    for key, limit in MAX_LENGTHS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            bad(key, f"{key} must be a text, not {_kind(value)}")
        elif not value.strip():
            bad(key, f"{key} must not be empty")
        elif len(value) > limit:
            bad(key, f"{key} may be at most {limit} characters")
        elif (message := unsafe_text(value)) is not None:
            bad(key, message)
        elif key != "channel" and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            bad(key, f"{key} must not contain control characters such as line breaks or tabs")
        else:
            values[key] = value.strip()
    submitted_at = _timestamp(raw.get("submitted_at"), now, bad)
    language = raw.get("language", "nl")
    if language not in LANGUAGES:
        bad("language", f"language must be nl or en, not {_short(language)}")
    answers = raw.get("answers")
    if answers is not None:
        if not isinstance(answers, dict):
            bad("answers", f"answers must be an object mapping question keys to values, not {_kind(answers)}")
        elif len(answers) > MAX_ANSWERS:
            bad("answers", f"at most {MAX_ANSWERS} answers per response")
        else:
            for key, value in answers.items():
                message = unsafe_text(key) or _unsafe_value(value)
                if message:
                    bad(f"answers/{_escape(key)}", message)
    if len(problems) > before:
        return None
    answers = {k: v for k, v in answers.items() if v is not None}
    item = Item(index, values["external_id"], values["survey"], values["customer"], values.get("case"),
                submitted_at, language, values.get("channel", default_channel), answers, "")
    item.content_hash = content_hash(item)
    return item


def content_hash(item: Item) -> str:
    """What makes two submissions "the same": everything but the external id, in a canonical form."""
    canonical = json.dumps(
        [item.survey, item.customer, item.case, item.submitted_at.isoformat(), item.language, item.channel, item.answers],
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _timestamp(value, now: datetime, bad) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        bad("submitted_at", "submitted_at must be an ISO 8601 text such as 2026-03-01T14:30:00+01:00")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        bad("submitted_at", f"{_short(value)} is not an ISO 8601 timestamp such as 2026-03-01T14:30:00+01:00")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        bad("submitted_at", f"{_short(value)} has no time zone: add one, e.g. +01:00 or Z")
        return None
    if parsed.year < EARLIEST_YEAR:
        bad("submitted_at", f"{_short(value)} is before {EARLIEST_YEAR}: not a plausible submission time")
        return None
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-12:00 is past the last representable instant
        bad("submitted_at", f"{_short(value)} is in the future")
        return None
    if parsed > now + FUTURE_TOLERANCE:
        bad("submitted_at", f"{_short(value)} is in the future")
        return None
    return parsed


def unsafe_text(value: str) -> str | None:
    """Texts the databases cannot store (NUL, lone surrogates) are refused with a reason."""
    if "\x00" in value:
        return "the text contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "the text is not valid Unicode (a lone surrogate)"
    return None


def _unsafe_value(value) -> str | None:
    if isinstance(value, str):
        return unsafe_text(value)
    if isinstance(value, list):
        for v in value:
            if isinstance(v, str) and (message := unsafe_text(v)):
                return message
    return None


def _escape(key: str) -> str:
    # JSON pointer escaping (RFC 6901).
    return key.replace("~", "~0").replace("/", "~1")


def _kind(value) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _short(value) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return _kind(value) if value is not None else "null"
