"""Timestamps that cannot be read are reported as bad rows, never raised (found by schemathesis on /api/v1/events)."""

from __future__ import annotations

import pandas as pd

from servicepulse.kernels.eventlog.timestamps import parse_timestamps


def test_a_month_name_alone_is_a_bad_row_not_an_overflow():
    # pandas reads "OCTOBER" as 1 October of year 1, beyond what nanosecond timestamps hold
    values = pd.Series(["OCTOBER", "2026-01-05T10:00:00+01:00", "", "05-01-2026 10:00"])
    out, bad = parse_timestamps(values, default_tz="Europe/Amsterdam")
    assert list(bad) == [True, False, False, False]
    assert out[1] == pd.Timestamp("2026-01-05T09:00:00Z")
    assert out[3] == pd.Timestamp("2026-01-05T09:00:00Z")  # day first, local time
