"""What CLI commands share: the console, the engine, moment options, and how errors are printed."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy.engine import Engine

from servicepulse.db.engine import make_engine
from servicepulse.db.migrate import check_schema
from servicepulse.errors import ValidationFailed
from servicepulse.settings import get_settings

console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def engine(check: bool = True) -> Engine:
    """The configured engine; by default refuses a database that is not at our schema."""
    eng = make_engine(get_settings().resolved_database_url())
    if check:
        check_schema(eng)
    return eng


def moment_option(value: str | None, option: str = "now") -> datetime:
    """An ISO 8601 moment with a timezone offset given as ``--<option>``, in UTC; none given: now."""
    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"--{option} {value!r} is not a date and time like 2026-03-02T10:00:00+01:00",
                               [(option, "not a date and time")]) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"--{option} {value!r} has no timezone offset; add one, e.g. +01:00",
                               [(option, "timezone offset required")])
    return parsed.astimezone(UTC)
