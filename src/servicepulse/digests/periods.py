"""The periods a digest covers: ISO weeks (Monday to Sunday) and calendar months, as UTC days like every
metric (``date_from`` inclusive, ``date_to`` exclusive), and when a period's digest is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from servicepulse.models.digests import FREQUENCIES

# A period's digest goes out from this hour (the organisation's clock) on the day after it ended.
SEND_HOUR = 6


@dataclass(frozen=True)
class Period:
    frequency: str  # weekly or monthly
    start: date
    end: date  # the first day after the period

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def key(self) -> str:
        """2026-W47 or 2026-11."""
        if self.frequency == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    def previous(self) -> Period:
        return period_containing(self.frequency, self.start - timedelta(days=1))

    def due_at(self, zone: ZoneInfo) -> datetime:
        return datetime.combine(self.end, time(SEND_HOUR), zone)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def period_containing(frequency: str, day: date) -> Period:
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    if frequency == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(frequency, start, start + timedelta(days=7))
    start = day.replace(day=1)
    return Period(frequency, start, _next_month(start))


def last_complete(frequency: str, today: date) -> Period:
    """The newest period that has ended by ``today`` (a UTC day)."""
    return period_containing(frequency, today).previous()
