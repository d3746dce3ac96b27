"""Turning a forecast into dates a person can say to a customer.

The suggested promise is the interval's upper bound rounded up to the end of a
working day. With the default 80% central interval the upper bound is the 90%
quantile of the remaining time, so a promise at (or after) it is kept about nine
times out of ten; rounding up to the end of the working day adds a little slack
and gives the customer a date rather than a minute. Promising the median would
break every second promise; promising the 99% quantile would make every promise
useless. Nine in ten is the usual service-level target in customer contact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import pandas as pd


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and the end of a working day, in a named timezone."""

    timezone: str = "Europe/Amsterdam"
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    day_end: dt.time = dt.time(17, 0)
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def end_of_working_day_on_or_after(self, moment: pd.Timestamp) -> pd.Timestamp:
        """The first end of a working day that is not earlier than ``moment``."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware.")
        if not self.workdays:
            raise ValueError("a working calendar needs at least one working weekday.")
        local = moment.tz_convert(self.timezone)
        day = local.date()
        for _ in range(3 * 366):  # bounded: a calendar of all holidays must not loop forever
            if self.is_working_day(day):
                end = pd.Timestamp(dt.datetime.combine(day, self.day_end)).tz_localize(self.timezone)
                if end >= local:
                    return end
            day += dt.timedelta(days=1)
        raise ValueError("no working day found within three years; check the holidays.")


def suggest_promise(upper: pd.Timestamp, calendar: WorkingCalendar | None = None) -> pd.Timestamp:
    """The promise to give: ``upper`` rounded up to the end of a working day."""
    return (calendar or WorkingCalendar()).end_of_working_day_on_or_after(upper)


@dataclass(frozen=True)
class ForecastDescription:
    expected_at: pd.Timestamp
    lower_at: pd.Timestamp
    upper_at: pd.Timestamp
    promise_at: pd.Timestamp
    text: str

    def as_dict(self) -> dict:
        return asdict(self)


def _day(moment: pd.Timestamp) -> str:
    return moment.strftime("%a %d %b %Y")


def describe_forecast(
    anchor: pd.Timestamp,
    remaining_s: float,
    lower_s: float,
    upper_s: float,
    *,
    calendar: WorkingCalendar | None = None,
    coverage: float = 0.8,
) -> ForecastDescription:
    """Dates and one sentence for a forecast counted from ``anchor`` (the last event)."""
    calendar = calendar or WorkingCalendar()
    anchor = pd.Timestamp(anchor)
    if anchor.tzinfo is None:
        raise ValueError("anchor must be timezone-aware (the time of the case's last event).")

    def at(seconds: float) -> pd.Timestamp:
        return (anchor + pd.Timedelta(seconds=float(seconds))).tz_convert(calendar.timezone)

    expected, lower, upper = at(remaining_s), at(lower_s), at(upper_s)
    promise = suggest_promise(upper, calendar)
    text = (
        f"Expected resolved by {_day(expected)}; {round(coverage * 100)}% between "
        f"{_day(lower)} and {_day(upper)}. Suggested promise: {_day(promise)}, "
        f"{promise.strftime('%H:%M')}."
    )
    return ForecastDescription(expected, lower, upper, promise, text)
