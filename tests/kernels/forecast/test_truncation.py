"""Forecasts for an extract of closed cases: conditioned on closing by the extract's end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import (
    chronological_case_split,
    evaluate_protocol,
    interval_coverage,
    mae_days,
    make_prefixes,
)
from servicepulse.kernels.forecast.model import select_candidate
from servicepulse.kernels.forecast.truncation import (
    bound_days,
    conditional_level,
    conditional_quantile,
    truncated_point,
)

from .synthetic import FAST, make_log

DAY = 86_400.0


def _sample_two_piece(point, low, high, size, seed=0):
    """Draws of the two-piece log-normal in log(1 + days) with median ``point`` and 10%/90%
    quantiles ``low``/``high``, built directly (not with the module's code)."""
    z90 = 1.2815515655446004
    mu = np.log1p(point)
    below, above = (mu - np.log1p(low)) / z90, (np.log1p(high) - mu) / z90
    normal = np.random.default_rng(seed).standard_normal(size)
    return np.expm1(mu + np.where(normal < 0, below, above) * normal)


@pytest.mark.parametrize("bound", [1.0, 3.0, 8.0, 40.0])
def test_conditional_median_matches_sampling(bound):
    point, low, high = 6.0, 1.0, 30.0
    draws = _sample_two_piece(point, low, high, 400_000)
    kept = draws[draws <= bound]
    expected = float(np.median(kept))
    got = float(truncated_point(np.array([point]), np.array([low]), np.array([high]), np.array([bound]), 0.8)[0])
    assert got == pytest.approx(expected, rel=0.02, abs=0.01)
    assert got <= bound
    # The level of a truth is its rank among the kept draws.
    y = 0.5 * bound
    level = conditional_level(np.array([point]), np.array([low]), np.array([high]), np.array([bound]),
                              np.array([y]), 0.8)[0]
    assert level == pytest.approx(float(np.mean(kept <= y)), abs=0.01)


def test_no_bound_leaves_the_forecast_alone_and_quantiles_are_ordered():
    point, low, high = np.array([2.0, 10.0, 0.0]), np.array([0.5, 1.0, 0.0]), np.array([9.0, 50.0, 3.0])
    assert np.array_equal(truncated_point(point, low, high, np.full(3, np.inf), 0.8), point)
    # The unbounded quantiles at 10% / 50% / 90% give back the inputs.
    for level, expected in ((0.1, low), (0.5, point), (0.9, high)):
        got = conditional_quantile(point, low, high, np.full(3, np.inf), np.full(3, level), 0.8)
        assert np.allclose(got, expected, atol=1e-9)
    bound = np.array([1.0, 4.0, 2.0])
    levels = [conditional_quantile(point, low, high, bound, np.full(3, q), 0.8) for q in (0.05, 0.3, 0.6, 0.95)]
    assert all(np.all(a <= b + 1e-12) for a, b in zip(levels, levels[1:]))
    assert np.all(levels[-1] <= bound)


def test_bound_days_counts_from_each_moment_and_needs_a_zone():
    at = pd.to_datetime(["2025-01-01 00:00", "2025-01-03 12:00", "2025-01-06 00:00"]).to_numpy()
    assert np.allclose(bound_days(at, pd.Timestamp("2025-01-05", tz="UTC")), [4.0, 1.5, 0.0])
    assert np.all(np.isinf(bound_days(at, None)))
    with pytest.raises(ValueError, match="timezone"):
        bound_days(at, pd.Timestamp("2025-01-05"))


@pytest.fixture(scope="module")
def extract():
    """Cases started over 200 days, of which only those closed by day 100 are in the extract:
    the newest cases in it are short because they had to close by its end (right-truncated)."""
    log = make_log(800, sigma=1.2, seed=7, span_days=200.0)
    end = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=100)
    closes = log.groupby("case_id")["timestamp"].max()
    return log[log["case_id"].isin(closes.index[closes <= end])].reset_index(drop=True)


def test_closed_by_conditions_the_estimate_and_keeps_every_covered_truth(extract):
    train, valid, test = chronological_case_split(extract)
    fit_cases = extract[extract["case_id"].isin(train.append(valid))]
    on = ResolutionForecaster(**FAST, interval_seeds=1, truncation="on").fit(fit_cases)
    off = ResolutionForecaster(**FAST, interval_seeds=1, truncation="off").fit(fit_cases)
    prefixes, truth = make_prefixes(extract[extract["case_id"].isin(test)])
    end = extract["timestamp"].max()
    y = truth["remaining_s"]

    # An open case (no closed_by): the product's forecast, the same whatever the choice.
    pd.testing.assert_frame_equal(on.predict(prefixes), off.predict(prefixes))
    # Without the choice, closed_by changes nothing.
    pd.testing.assert_frame_equal(off.predict(prefixes, closed_by=end), off.predict(prefixes))

    plain, bounded = on.predict(prefixes), on.predict(prefixes, closed_by=end)
    anchors = prefixes.groupby("case_id")["timestamp"].max().reindex(bounded.index)
    limit = (end - anchors).dt.total_seconds()
    assert (bounded["upper_s"] <= limit + 1e-6).all() and (bounded["remaining_s"] <= limit + 1e-6).all()
    assert (bounded["lower_s"] <= bounded["remaining_s"]).all() and (bounded["remaining_s"] <= bounded["upper_s"]).all()
    # Every truth the unbounded interval held, the bounded one holds (truths never pass the bound).
    assert (y <= limit.reindex(y.index) + 1e-6).all()
    held = (y >= plain["lower_s"].reindex(y.index)) & (y <= plain["upper_s"].reindex(y.index))
    still = (y >= bounded["lower_s"].reindex(y.index)) & (y <= bounded["upper_s"].reindex(y.index))
    assert not (held & ~still).any()
    assert interval_coverage(bounded, y) >= interval_coverage(plain, y)
    # On this truncated extract the conditioned estimate is the better one (independent MAE).
    by_hand = float(np.mean(np.abs(bounded["remaining_s"].reindex(y.index) - y))) / DAY
    assert mae_days(bounded["remaining_s"], y) == pytest.approx(by_hand)
    assert by_hand < mae_days(plain["remaining_s"], y) - 0.05


def test_the_choice_follows_the_hold_out_rule(extract):
    result = evaluate_protocol(extract, lambda: ResolutionForecaster(**FAST, interval_seeds=1))
    report = result["forecaster"].training_report
    held = report["truncation_holdout_mae_days"]
    assert report["truncation_chosen"] == (select_candidate([held["plain"], held["truncated"]]) == 1)
    assert result["truncation"] == report["truncation_chosen"]
    with pytest.raises(ValueError, match="truncation"):
        ResolutionForecaster(truncation="sometimes")
