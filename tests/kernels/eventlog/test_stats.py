"""log_stats on a hand-made log whose figures are worked out by hand."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from servicepulse.kernels.eventlog import log_stats, variant_counts


def frame(rows):
    df = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df["file_order"] = range(len(df))
    return df


LOG = frame(
    [
        ("c2", "a", "2024-01-01 00:00"),
        ("c1", "b", "2024-01-02 00:00"),  # out of order in the file
        ("c1", "a", "2024-01-01 00:00"),
        ("c1", "c", "2024-01-04 00:00"),
        ("c2", "b", "2024-01-03 12:00"),
        ("c2", "c", "2024-01-04 00:00"),
        ("c3", "c", "2024-01-05 00:00"),  # tie: file order decides, c before a
        ("c3", "a", "2024-01-05 00:00"),
    ]
)


def test_hand_made_log():
    stats = log_stats(LOG)
    # variants: c1 = c2 = (a, b, c); c3 = (c, a)
    assert variant_counts(LOG) == {("a", "b", "c"): 2, ("c", "a"): 1}
    # throughput: c1 3 days, c2 3 days, c3 0 days
    assert stats == {
        "cases": 3,
        "events": 8,
        "variants": 2,
        "throughput_days": {"mean": pytest.approx(2.0), "median": pytest.approx(3.0)},
        "activities": {"a": 3, "c": 3, "b": 2},
        "directly_follows": [["a", "b", 2], ["b", "c", 2], ["c", "a", 1]],
    }
    json.dumps(log_stats(LOG))  # plain JSON types only


def test_missing_columns_are_reported():
    with pytest.raises(ValueError, match="timestamp"):
        log_stats(LOG.drop(columns="timestamp"))
