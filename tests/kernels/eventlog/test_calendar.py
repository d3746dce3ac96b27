"""Opening hours and Dutch public holidays (dates as published by the Dutch
government for those years)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from servicepulse.kernels.eventlog import OpeningHours, dutch_public_holidays

D = dt.date


def test_dutch_holidays_2025():
    assert dutch_public_holidays(2025) == {
        D(2025, 1, 1): "Nieuwjaarsdag",
        D(2025, 4, 20): "Eerste Paasdag",
        D(2025, 4, 21): "Tweede Paasdag",
        D(2025, 4, 26): "Koningsdag",  # the 27th is a Sunday
        D(2025, 5, 5): "Bevrijdingsdag",  # lustrum year
        D(2025, 5, 29): "Hemelvaartsdag",
        D(2025, 6, 8): "Eerste Pinksterdag",
        D(2025, 6, 9): "Tweede Pinksterdag",
        D(2025, 12, 25): "Eerste Kerstdag",
        D(2025, 12, 26): "Tweede Kerstdag",
    }


def test_dutch_holidays_other_years_and_options():
    h2024 = dutch_public_holidays(2024, good_friday=True)
    assert {D(2024, 3, 29), D(2024, 3, 31), D(2024, 4, 1), D(2024, 4, 27), D(2024, 5, 9),
            D(2024, 5, 20)} <= set(h2024)
    assert D(2024, 5, 5) not in h2024  # not a lustrum year
    assert D(2024, 5, 5) in dutch_public_holidays(2024, liberation_day="always")
    h2026 = dutch_public_holidays(2026)
    assert {D(2026, 4, 6), D(2026, 4, 27), D(2026, 5, 14), D(2026, 5, 25)} <= set(h2026)
    assert D(2026, 4, 3) not in h2026  # Good Friday off by default
    assert dutch_public_holidays(2014)[D(2014, 4, 26)] == "Koningsdag"  # first King's Day
    h2008 = dutch_public_holidays(2008)
    assert h2008[D(2008, 4, 30)] == "Koninginnedag"
    assert h2008[D(2008, 5, 1)] == "Hemelvaartsdag"


def utc(*stamps):
    return pd.Series(pd.to_datetime(list(stamps), utc=True))


def test_default_hours_in_amsterdam_time_across_dst():
    cal = OpeningHours()
    got = cal.is_open(
        utc(
            "2025-06-14 08:30",  # Saturday 10:30 summer time: open
            "2025-06-14 15:30",  # Saturday 17:30: closed (Saturday closes at 17:00)
            "2025-01-11 15:30",  # Saturday 16:30 winter time: open
            "2025-01-13 06:59",  # Monday 07:59: closed
            "2025-01-13 07:00",  # Monday 08:00: open (opening is inclusive)
            "2025-01-13 19:00",  # Monday 20:00: closed (closing is exclusive)
            "2025-01-12 12:00",  # Sunday: closed
            "2025-12-25 10:00",  # Christmas (Thursday): closed
        )
    )
    assert got.tolist() == [True, False, True, False, True, False, False, False]


def test_custom_hours_with_lunch_break_and_extra_holiday():
    cal = OpeningHours(
        week={0: ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(17)))},
        tz="UTC",
        dutch_holidays=False,
        holidays=[D(2025, 1, 20)],
    )
    got = cal.is_open(utc("2025-01-13 11:59", "2025-01-13 12:30", "2025-01-13 13:00", "2025-01-14 10:00",
                          "2025-01-20 10:00", "2025-12-25 10:00"))
    assert got.tolist() == [True, False, True, False, False, False]
