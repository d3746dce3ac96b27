"""The literature's split and prefix protocol, checked against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast.evaluation import (
    chronological_case_split,
    interval_coverage,
    mae_days,
    make_prefixes,
    mean_by_prefix_length,
)

from .synthetic import make_log


def _tiny() -> pd.DataFrame:
    t = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    rows = [
        ("b", "A", t("2025-01-02")), ("b", "B", t("2025-01-04")), ("b", "C", t("2025-01-05")),
        ("a", "A", t("2025-01-01")), ("a", "B", t("2025-01-02")), ("a", "C", t("2025-01-03")),
        ("a", "D", t("2025-01-06")),
        ("c", "A", t("2025-01-03")), ("c", "D", t("2025-01-04")),
    ]
    return pd.DataFrame(rows, columns=["case_id", "activity", "timestamp"])


def test_split_is_chronological_by_first_event():
    log = make_log(100, seed=3)
    train, valid, test = chronological_case_split(log)
    assert (len(train), len(valid), len(test)) == (64, 16, 20)
    starts = log.groupby("case_id")["timestamp"].min()
    assert starts[train].max() <= starts[valid].min()
    assert starts[valid].max() <= starts[test].min()
    with pytest.raises(ValueError, match="fractions"):
        chronological_case_split(log, (0.5, 0.5, 0.5))


def test_prefixes_and_truth_by_hand():
    prefixes, truth = make_prefixes(_tiny(), min_length=2)
    # Case a (4 events): lengths 2, 3; case b (3 events): length 2; case c (2 events): none.
    assert sorted(truth.index) == ["a@2", "a@3", "b@2"]
    day = 86_400
    assert truth.loc["a@2", "remaining_s"] == 4 * day  # Jan 2 -> Jan 6
    assert truth.loc["a@3", "remaining_s"] == 3 * day
    assert truth.loc["b@2", "remaining_s"] == 1 * day
    assert prefixes.groupby("case_id").size().to_dict() == {"a@2": 2, "a@3": 3, "b@2": 2}
    assert list(prefixes.loc[prefixes["case_id"] == "a@3", "activity"]) == ["A", "B", "C"]


def test_prefix_count_matches_formula():
    log = make_log(50, seed=4)
    _, truth = make_prefixes(log, min_length=2)
    sizes = log.groupby("case_id").size()
    assert len(truth) == int(np.clip(sizes - 2, 0, None).sum())


def test_baseline_mean_by_length_by_hand():
    _, truth = make_prefixes(_tiny(), min_length=2)
    baseline = mean_by_prefix_length(_tiny(), truth) / 86_400
    # Training prefixes of length 2: a@2 (4 days), b@2 (1 day) -> 2.5; length 3: a@3 -> 3.
    assert baseline["a@2"] == pytest.approx(2.5) and baseline["b@2"] == pytest.approx(2.5)
    assert baseline["a@3"] == pytest.approx(3.0)


def test_mae_and_coverage():
    truth = pd.Series([0.0, 86_400.0, 2 * 86_400.0], index=["x", "y", "z"])
    forecast = pd.DataFrame(
        {"remaining_s": [86_400.0, 86_400.0, 0.0], "lower_s": [0.0, 0.0, 0.0], "upper_s": [1.0, 2e5, 1.0]},
        index=["z", "y", "x"],
    )
    assert mae_days(forecast["remaining_s"], truth) == pytest.approx((0 + 0 + 1) / 3)  # x exact, y exact, z off by a day
    assert interval_coverage(forecast, truth) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="no prediction"):
        mae_days(forecast["remaining_s"].drop("x"), truth)
