"""Process-position features, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.events import validate_events
from servicepulse.kernels.forecast.features import PrefixFeatureBuilder

from .synthetic import FAST


def _events(rows):
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return validate_events(frame)


def test_position_features_by_hand():
    # Thu 2024-02-22 09:00 UTC start; resolved Mon 26th 10:00; then a wait 1.5 days later.
    events = _events([
        ("a", "Insert ticket", "2024-02-22 09:00"),
        ("a", "Wait", "2024-02-23 09:00"),
        ("a", "Resolve ticket", "2024-02-26 10:00"),
        ("a", "Wait", "2024-02-27 22:00"),
        ("b", "Insert ticket", "2024-03-31 08:00"),
    ])
    builder = PrefixFeatureBuilder(timezone="UTC").learn(events)
    features = builder.transform(events)
    a = features[events["case_id"].to_numpy() == "a"]
    assert np.isnan(a["days_since_resolution"].iloc[0]) and np.isnan(a["days_since_resolution"].iloc[1])
    assert a["days_since_resolution"].iloc[2:].tolist() == pytest.approx([0.0, 1.5])
    assert a["resolved"].tolist() == [0.0, 0.0, 1.0, 1.0]
    assert a["events_since_resolution"].iloc[2:].tolist() == [0.0, 1.0]
    assert a["wait_count"].tolist() == [0.0, 1.0, 1.0, 2.0]
    # February 2024 has 29 days.
    assert a["days_to_month_end"].tolist() == [7.0, 6.0, 3.0, 2.0]
    # Mon-Fri days from Thu 22nd, end date excluded: Thu, Fri (+2), Mon (+3), Tue (+4).
    assert a["working_days_elapsed"].tolist() == [0.0, 1.0, 2.0, 3.0]
    b = features[events["case_id"].to_numpy() == "b"]
    assert b["days_to_month_end"].tolist() == [0.0] and b["resolved"].tolist() == [0.0]


def test_switch_removes_the_features():
    events = _events([("a", "Insert ticket", "2024-02-22 09:00"), ("a", "Closed", "2024-02-23 09:00")])
    with_position = PrefixFeatureBuilder(position_features=True).learn(events)
    without = PrefixFeatureBuilder(position_features=False).learn(events)
    assert "days_since_resolution" in with_position.transform(events).columns
    assert "days_since_resolution" not in without.transform(events).columns


def test_close_rule_after_resolution_is_learned():
    # Cases close exactly 15 days after the resolution, which comes 1-10 days
    # after the start; after the resolution the remaining time is 15 days minus
    # what has passed since it, whatever else happened.
    rng = np.random.default_rng(3)
    rows = []
    start = pd.Timestamp("2024-01-01 08:00", tz="UTC")
    for case in range(300):
        begin = start + pd.Timedelta(hours=int(rng.integers(0, 24 * 200)))
        resolved = begin + pd.Timedelta(days=float(rng.uniform(1, 10)))
        note = resolved + pd.Timedelta(days=float(rng.uniform(0, 12)))
        rows += [(f"c{case}", "Insert ticket", begin), (f"c{case}", "Resolve ticket", resolved),
                 (f"c{case}", "Wait", note), (f"c{case}", "Closed", resolved + pd.Timedelta(days=15))]
    events = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"])
    forecaster = ResolutionForecaster(**FAST).fit(events)
    after_wait = events[events["activity"] != "Closed"]
    forecast = forecaster.predict(after_wait)
    last = after_wait.groupby("case_id")["timestamp"].max()
    resolved_at = events[events["activity"] == "Resolve ticket"].set_index("case_id")["timestamp"]
    truth_days = (resolved_at + pd.Timedelta(days=15) - last).dt.total_seconds() / 86_400
    error = (forecast["remaining_s"] / 86_400 - truth_days.reindex(forecast.index)).abs()
    assert error.mean() < 0.5, error.describe()
