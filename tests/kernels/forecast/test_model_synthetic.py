"""The forecaster recovers remaining times that are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import interval_coverage, mae_days, make_prefixes

from .synthetic import FAST, deterministic_remaining_days, make_log

DAY = 86_400.0


def _last(prefixes: pd.DataFrame, column: str) -> pd.Series:
    return prefixes.groupby("case_id")[column].last()


def test_recovers_deterministic_remaining_time(fitted_deterministic):
    held_out = make_log(60, sigma=0.0, seed=7, start="2025-03-01", with_channel=True)
    prefixes, _ = make_prefixes(held_out, min_length=1)
    forecast = fitted_deterministic.predict(prefixes)
    activity = _last(prefixes, "activity").reindex(forecast.index)
    escalated = _last(prefixes, "channel").reindex(forecast.index) == "email"
    expected = pd.Series(
        [deterministic_remaining_days(a, e) for a, e in zip(activity, escalated)], index=forecast.index
    )
    error_days = (forecast["remaining_s"] / DAY - expected).abs()
    # Every state (including the rare escalation path) is recovered to within ~2 hours.
    assert error_days.max() < 0.1, error_days.groupby(activity).max()


def test_interval_orders_and_point_inside(fitted_deterministic):
    held_out = make_log(30, sigma=0.0, seed=8, start="2025-03-01", with_channel=True)
    prefixes, _ = make_prefixes(held_out, min_length=1)
    forecast = fitted_deterministic.predict(prefixes)
    assert (forecast["lower_s"] >= 0).all()
    assert (forecast["lower_s"] <= forecast["remaining_s"]).all()
    assert (forecast["remaining_s"] <= forecast["upper_s"]).all()


def _oracle_medians(sigma: float) -> dict[str, float]:
    """Median remaining days per last activity, by simulating many cases independently."""
    simulated = make_log(5_000, sigma=sigma, seed=99)
    end = simulated.groupby("case_id")["timestamp"].transform("max")
    remaining = (end - simulated["timestamp"]).dt.total_seconds() / DAY
    keep = simulated["activity"] != "Close"
    return remaining[keep].groupby(simulated.loc[keep, "activity"]).median().to_dict()


@pytest.fixture(scope="module")
def noisy_result():
    train = make_log(800, sigma=0.5, seed=2)
    test = make_log(400, sigma=0.5, seed=3, start="2025-01-01")
    forecaster = ResolutionForecaster(**FAST).fit(train)
    prefixes, truth = make_prefixes(test, min_length=1)
    return forecaster.predict(prefixes), truth, _last(prefixes, "activity")


def test_interval_coverage_on_held_out_noisy_cases(noisy_result):
    forecast, truth, _ = noisy_result
    coverage = interval_coverage(forecast, truth["remaining_s"])
    assert 0.70 <= coverage <= 0.90, coverage


def test_point_error_close_to_oracle_median(noisy_result):
    forecast, truth, last = noisy_result
    oracle = last.reindex(truth.index).map(_oracle_medians(0.5)) * DAY
    oracle_mae = mae_days(oracle, truth["remaining_s"])
    model_mae = mae_days(forecast["remaining_s"], truth["remaining_s"])
    # Given the events so far, nothing beats the true conditional median.
    assert model_mae <= 1.10 * oracle_mae, (model_mae, oracle_mae)


def test_uses_optional_team_column():
    # No escalations: the remaining time is a function of activity and team only.
    train = make_log(300, sigma=0.0, seed=4, with_teams=True, escalation_probability=0.0)
    forecaster = ResolutionForecaster(**FAST).fit(train)
    test = make_log(40, sigma=0.0, seed=5, with_teams=True, escalation_probability=0.0, start="2025-02-01")
    prefixes, _ = make_prefixes(test, min_length=1)
    forecast = forecaster.predict(prefixes)
    at_fix = _last(prefixes, "activity").reindex(forecast.index) == "Fix"
    team = _last(prefixes, "team").reindex(forecast.index)
    days = forecast["remaining_s"] / DAY
    # After Fix the team alone decides the remaining time: 1 day (fast) or 4 days (slow).
    assert np.allclose(days[at_fix & (team == "fast")], 1.0, atol=0.1)
    assert np.allclose(days[at_fix & (team == "slow")], 4.0, atol=0.1)
