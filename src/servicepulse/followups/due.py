"""Due times in working days: weekends and Dutch public holidays do not count."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from servicepulse.kernels.eventlog.calendar import OpeningHours

_CALENDAR = OpeningHours()
_START_OF_DAY = dt.time(8, 0)


def is_working_day(day: dt.date, calendar: OpeningHours = _CALENDAR) -> bool:
    return day.weekday() < 5 and day not in calendar.closed_dates([day.year])


def add_working_days(start: dt.datetime, days: int, calendar: OpeningHours = _CALENDAR) -> dt.datetime:
    """`start` plus `days` working days, at the same local time of day.

    An alert raised on a weekend or holiday starts counting at 08:00 on the
    next working day: a customer who complains on Saturday hears from us by
    Tuesday 08:00 (two working days), not by Monday night.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    tz = ZoneInfo(calendar.tz)
    local = start.astimezone(tz)
    day, time_of_day = local.date(), local.timetz().replace(tzinfo=None)
    if not is_working_day(day, calendar):
        while not is_working_day(day, calendar):
            day += dt.timedelta(days=1)
        time_of_day = _START_OF_DAY
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, calendar):
            left -= 1
    return dt.datetime.combine(day, time_of_day, tz).astimezone(dt.UTC)


def overdue_by(status: str, due_at: dt.datetime, now: dt.datetime) -> dt.timedelta | None:
    """How long a follow-up is past its due time, or None: the escalation job's rule (not closed, due time
    passed), so the page marks exactly what team leads are told about."""
    if status == "closed" or due_at >= now:
        return None
    return now - due_at


def overdue_span(late: dt.timedelta) -> tuple[str, int]:
    """``late`` as the largest whole unit a reader needs: ("day"/"days", n) from a day, ("hour"/"hours", n) from an hour,
    else ("under_hour", 0); the page words it (followups.late.*)."""
    if late >= dt.timedelta(days=1):
        return ("day" if late.days == 1 else "days"), late.days
    if late >= dt.timedelta(hours=1):
        hours = int(late.total_seconds() // 3600)
        return ("hour" if hours == 1 else "hours"), hours
    return "under_hour", 0
