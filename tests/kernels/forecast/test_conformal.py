"""Split-conformal calibration: the finite-sample quantile by hand, and the
coverage each variant promises, on exchangeable data drawn here."""

from __future__ import annotations

import numpy as np
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.conformal import (
    MIN_GROUP_PREFIXES,
    IntervalCalibration,
    conformal_quantile,
)


def test_conformal_quantile_by_hand():
    scores = np.array([9.0, 1, 8, 2, 7, 3, 6, 4, 5])
    # n = 9, coverage 0.8: rank ceil(10 * 0.8) = 8, the 8th smallest score.
    assert conformal_quantile(scores, 0.8) == 8.0
    # coverage 0.95: rank ceil(9.5) = 10 > n, so the largest score.
    assert conformal_quantile(scores, 0.95) == 9.0
    assert conformal_quantile(np.array([]), 0.8) == 0.0


def _draw(rng, n):
    """Two groups around a raw interval [-1, 1]: group "b" spreads five times wider."""
    groups = rng.choice(np.array(["a", "b"]), size=n)
    y = rng.standard_normal(n) * np.where(groups == "b", 5.0, 1.0)
    return np.full(n, -1.0), np.full(n, 1.0), y, groups


def _coverage(low, high, y):
    return float(np.mean((y >= low) & (y <= high)))


def test_global_covers_marginally_mondrian_per_group():
    rng = np.random.default_rng(11)
    low, high, y, groups = _draw(rng, 4_000)
    test_low, test_high, test_y, test_groups = _draw(rng, 20_000)

    pooled = IntervalCalibration.learn("global", low, high, y, groups, 0.8)
    lo, hi = pooled.apply(test_low, test_high, test_groups)
    assert _coverage(lo, hi, test_y) == pytest.approx(0.8, abs=0.015)
    # One correction for both: the narrow group is over-covered, the wide one under.
    assert _coverage(lo[test_groups == "a"], hi[test_groups == "a"], test_y[test_groups == "a"]) > 0.95
    assert _coverage(lo[test_groups == "b"], hi[test_groups == "b"], test_y[test_groups == "b"]) < 0.7

    mondrian = IntervalCalibration.learn("by_activity", low, high, y, groups, 0.8)
    assert set(mondrian.by_group) == {"a", "b"}
    lo, hi = mondrian.apply(test_low, test_high, test_groups)
    for group in ("a", "b"):
        inside = _coverage(lo[test_groups == group], hi[test_groups == group], test_y[test_groups == group])
        assert inside == pytest.approx(0.8, abs=0.02), group
    # A group unseen at calibration time gets the pooled correction.
    lo, _ = mondrian.apply(np.array([-1.0]), np.array([1.0]), np.array(["new"]))
    assert lo[0] == pytest.approx(-1.0 - mondrian.pooled)


def test_small_groups_share_the_pooled_correction():
    rng = np.random.default_rng(12)
    low, high, y, groups = _draw(rng, 1_000)
    groups[: MIN_GROUP_PREFIXES - 1] = "rare"
    groups[MIN_GROUP_PREFIXES - 1 :][groups[MIN_GROUP_PREFIXES - 1 :] == "rare"] = "a"
    calibration = IntervalCalibration.learn("by_activity", low, high, y, groups, 0.8)
    assert "rare" not in calibration.by_group


def test_scaled_correction_grows_with_the_raw_width():
    rng = np.random.default_rng(13)
    width = rng.uniform(0.5, 5.0, 3_000)
    y = rng.standard_normal(3_000) * width  # spread proportional to the raw width
    groups = np.full(3_000, "all")
    calibration = IntervalCalibration.learn("scaled", -width / 2, width / 2, y, groups, 0.8)
    lo, hi = calibration.apply(np.array([-0.5, -2.0]), np.array([0.5, 2.0]), np.array(["all", "all"]))
    # Widening is proportional: four times the raw width, four times the correction.
    assert (-2.0 - lo[1]) == pytest.approx(4 * (-0.5 - lo[0]))
    new_width = rng.uniform(0.5, 5.0, 20_000)
    new_y = rng.standard_normal(20_000) * new_width
    lo, hi = calibration.apply(-new_width / 2, new_width / 2, np.full(20_000, "all"))
    assert _coverage(lo, hi, new_y) == pytest.approx(0.8, abs=0.015)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="interval must be one of"):
        ResolutionForecaster(interval="bootstrap")
