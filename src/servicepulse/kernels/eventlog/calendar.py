"""Opening hours of a customer-contact organisation, for vectorised
"was this moment inside opening hours?" checks.

Default: Monday-Friday 08:00-20:00, Saturday 09:00-17:00, Sunday closed,
Europe/Amsterdam, closed on Dutch public holidays. Dutch holidays are computed
for any year: New Year's Day, Easter Sunday and Monday, King's Day (27 April,
26 April when the 27th is a Sunday; Queen's Day 30 April before 2014),
Ascension Day (Easter + 39), Whit Sunday and Monday (Easter + 49/50),
Christmas Day and Boxing Day. Liberation Day (5 May) is included only in
lustrum years (2025, 2030, ...) and Good Friday not at all, as most Dutch
collective agreements do; both are switchable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from dateutil.easter import easter

Interval = tuple[dt.time, dt.time]

DEFAULT_WEEK: dict[int, tuple[Interval, ...]] = {
    **{d: ((dt.time(8), dt.time(20)),) for d in range(5)},
    5: ((dt.time(9), dt.time(17)),),
    6: (),
}


def dutch_public_holidays(
    year: int, *, good_friday: bool = False, liberation_day: str = "lustrum"
) -> dict[dt.date, str]:
    """Dutch public holidays of ``year`` (date -> name).

    ``liberation_day``: 'lustrum' (every fifth year, the default), 'always' or
    'never'.
    """
    e = easter(year)
    days = {
        dt.date(year, 1, 1): "Nieuwjaarsdag",
        e: "Eerste Paasdag",
        e + dt.timedelta(days=1): "Tweede Paasdag",
        e + dt.timedelta(days=39): "Hemelvaartsdag",
        e + dt.timedelta(days=49): "Eerste Pinksterdag",
        e + dt.timedelta(days=50): "Tweede Pinksterdag",
        dt.date(year, 12, 25): "Eerste Kerstdag",
        dt.date(year, 12, 26): "Tweede Kerstdag",
    }
    if good_friday:
        days[e - dt.timedelta(days=2)] = "Goede Vrijdag"
    if year >= 2014:
        kings = dt.date(year, 4, 27)
        days[kings - dt.timedelta(days=1) if kings.weekday() == 6 else kings] = "Koningsdag"
    elif year >= 1949:
        queens = dt.date(year, 4, 30)
        if queens.weekday() == 6:  # moved to Monday before 1980, Saturday since
            queens = dt.date(year, 5, 1) if year < 1980 else dt.date(year, 4, 29)
        days[queens] = "Koninginnedag"
    if liberation_day == "always" or (liberation_day == "lustrum" and year % 5 == 0):
        days[dt.date(year, 5, 5)] = "Bevrijdingsdag"
    return days


@dataclass
class OpeningHours:
    """Weekly opening hours in a time zone, minus holidays.

    ``week`` maps weekday (0 = Monday) to a tuple of (open, close) local times;
    a missing or empty day is closed. ``holidays`` are extra closed dates;
    ``dutch_holidays`` adds the Dutch public holidays of every year involved.
    """

    week: Mapping[int, tuple[Interval, ...]] = field(default_factory=lambda: dict(DEFAULT_WEEK))
    tz: str = "Europe/Amsterdam"
    dutch_holidays: bool = True
    holidays: Iterable[dt.date] = ()
    good_friday: bool = False
    liberation_day: str = "lustrum"

    @classmethod
    def always_open(cls) -> OpeningHours:
        """A calendar in which nothing is ever outside opening hours."""
        full = ((dt.time(0), dt.time(23, 59, 59, 999999)),)
        return cls(week={d: full for d in range(7)}, dutch_holidays=False)

    def closed_dates(self, years: Iterable[int]) -> set[dt.date]:
        dates = set(self.holidays)
        if self.dutch_holidays:
            for y in years:
                dates |= set(
                    dutch_public_holidays(y, good_friday=self.good_friday, liberation_day=self.liberation_day)
                )
        return dates

    def is_open(self, timestamps: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """Boolean array: was each (tz-aware) moment inside opening hours?
        Opening time is inclusive, closing time exclusive."""
        local = pd.DatetimeIndex(timestamps).tz_convert(self.tz)
        if len(local) == 0:
            return np.zeros(0, dtype=bool)
        day = local.normalize().tz_localize(None)
        weekday = np.asarray(local.day_of_week)
        # local wall-clock time of day in microseconds
        tod = (local.tz_localize(None) - day).to_numpy().astype("timedelta64[us]").astype(np.int64)
        open_ = np.zeros(len(local), dtype=bool)
        n_slots = max((len(v) for v in self.week.values()), default=0)
        for slot in range(n_slots):
            start = np.full(7, -1, dtype=np.int64)
            end = np.full(7, -1, dtype=np.int64)
            for d, intervals in self.week.items():
                if slot < len(intervals):
                    start[d], end[d] = (_us(t) for t in intervals[slot])
            open_ |= (tod >= start[weekday]) & (tod < end[weekday])
        years = np.unique(np.asarray(local.year))
        closed = self.closed_dates(int(y) for y in years)
        if closed:
            closed_days = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in closed))
            open_ &= ~np.asarray(day.isin(closed_days))
        return open_


def _us(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond
