"""Nightly recalibration of the interval on recently closed cases (forecast/recalibration.py).

The drift test stretches every case that starts late in the log: a model fit on
the early cases under-covers them, and a window of recently closed cases
restores the requested coverage. The other tests check the bookkeeping against
independent computations: the finite-sample rank by hand, the fit's own
correction, and the "closed before the moment" rule to the second.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import interval_coverage, make_prefixes, rolling_forecast
from servicepulse.kernels.forecast.recalibration import (
    RecalibrationWindow,
    calibration_at,
    conformity_table,
    window_rows,
)

from .synthetic import FAST, make_log

DRIFT_FROM_DAY = 200.0
STRETCH = 2.5


def _drifting_log(n_cases: int = 900, seed: int = 5) -> pd.DataFrame:
    """Cases starting after day 200 take 2.5 times as long between their events."""
    log = make_log(n_cases, sigma=0.4, seed=seed, span_days=300.0)
    start = log.groupby("case_id")["timestamp"].transform("min")
    origin = log["timestamp"].min()
    late = (start - origin) > pd.Timedelta(days=DRIFT_FROM_DAY)
    log.loc[late, "timestamp"] = start[late] + (log.loc[late, "timestamp"] - start[late]) * STRETCH
    return log


@pytest.fixture(scope="module")
def drift():
    log = _drifting_log()
    origin = log["timestamp"].min()
    start = log.groupby("case_id")["timestamp"].min()
    early = start.index[start < origin + pd.Timedelta(days=150)]
    # Scored: cases starting once the window can hold only drifted cases.
    scored = start.index[start > origin + pd.Timedelta(days=DRIFT_FROM_DAY + 60)]
    # The global correction: one additive shift, which the tests below check by hand.
    forecaster = ResolutionForecaster(**FAST, interval="global").fit(log[log["case_id"].isin(early)])
    prefixes, truth = make_prefixes(log[log["case_id"].isin(scored)])
    return log, forecaster, prefixes, truth


def test_rolling_recalibration_restores_coverage_under_drift(drift):
    log, forecaster, prefixes, truth = drift
    static = interval_coverage(forecaster.predict(prefixes), truth["remaining_s"])
    window = RecalibrationWindow(prefixes=300)
    rolled = rolling_forecast(forecaster, prefixes, log, window)
    rolling = interval_coverage(rolled, truth["remaining_s"])
    assert static < 0.6  # the frozen correction cannot see the slower process
    assert rolling == pytest.approx(0.8, abs=0.06)
    assert rolled.attrs["fallback_share"] == 0.0
    assert rolled.attrs["mean_correction"] > forecaster.fit_calibration.pooled
    # The point estimate is not touched by the interval's calibration.
    pd.testing.assert_series_equal(
        rolled["remaining_s"], forecaster.predict(prefixes)["remaining_s"].reindex(rolled.index)
    )


def test_rolling_forecast_equals_recalibrating_at_the_start_of_each_day(drift):
    log, forecaster, prefixes, truth = drift
    forecaster = copy.deepcopy(forecaster)
    window = RecalibrationWindow(prefixes=300)
    rolled = rolling_forecast(forecaster, prefixes, log, window, timezone="UTC")
    anchors = prefixes.groupby("case_id")["timestamp"].max()
    picked = anchors.index[:: max(1, len(anchors) // 5)][:5]
    for prefix_id in picked:
        day = anchors.loc[prefix_id].tz_convert("UTC").normalize()
        # Independent path: only the cases closed before that midnight, then the public API.
        end = log.groupby("case_id")["timestamp"].transform("max")
        known = log[end < day]
        forecaster.recalibrate(known, day, window)
        one = forecaster.predict(prefixes[prefixes["case_id"] == prefix_id])
        assert one.loc[prefix_id, "lower_s"] == pytest.approx(rolled.loc[prefix_id, "lower_s"], rel=1e-9)
        assert one.loc[prefix_id, "upper_s"] == pytest.approx(rolled.loc[prefix_id, "upper_s"], rel=1e-9)


def _table(closed_hours: list[float], scores: list[float]) -> pd.DataFrame:
    """A conformity table whose raw interval is [0, 0], so each (non-negative) y is its own score."""
    origin = pd.Timestamp("2024-01-01")
    return pd.DataFrame({
        "case_id": [f"c{i}" for i in range(len(scores))],
        "closed_at": [origin + pd.Timedelta(hours=h) for h in closed_hours],
        "low": 0.0, "high": 0.0, "y": scores, "group": "all",
    })


def test_window_is_the_last_n_scores_closed_strictly_before_now():
    rng = np.random.default_rng(3)
    scores = rng.exponential(2.0, 40)
    table = _table(list(range(40)), list(scores))
    now = pd.Timestamp("2024-01-02 06:00", tz="UTC")  # hour 30
    window = RecalibrationWindow(prefixes=20, min_prefixes=5)
    rows = window_rows(table, now, window)
    # Hour 30 closes exactly at ``now``: not yet known. Hours 10..29 are the last 20.
    assert list(rows["case_id"]) == [f"c{i}" for i in range(10, 30)]
    calibration, _ = calibration_at(table, now, window, "global", 0.8)
    # Rank ceil(21 * 0.8) = 17 of the 20 window scores, by hand.
    assert calibration.pooled == pytest.approx(np.sort(scores[10:30])[16])
    one_second_later = now + pd.Timedelta(seconds=1)
    assert window_rows(table, one_second_later, window)["case_id"].iloc[-1] == "c30"


def test_window_in_days_and_the_fallback_when_it_holds_too_few():
    table = _table([0, 10, 30, 40, 47], [1.0, 2.0, 3.0, 4.0, 5.0])
    now = pd.Timestamp("2024-01-03", tz="UTC")  # hour 48
    rows = window_rows(table, now, RecalibrationWindow(prefixes=None, days=1))
    assert list(rows["case_id"]) == ["c2", "c3", "c4"]  # closed in hours 24..47
    calibration, rows = calibration_at(table, now, RecalibrationWindow(prefixes=None, days=1), "global", 0.8)
    assert calibration is None and len(rows) == 3  # fewer than MIN_WINDOW_PREFIXES


def test_window_settings_are_checked():
    with pytest.raises(ValueError, match="either a number of prefixes or a number of days"):
        RecalibrationWindow(prefixes=100, days=14)
    with pytest.raises(ValueError, match="positive"):
        RecalibrationWindow(prefixes=0)


def test_recalibrating_on_the_fit_cases_gives_back_the_fits_correction(fitted_deterministic, deterministic_log):
    """The training cases minus those the quantile models learned from are exactly the
    calibration cases, so the window over all of them must reproduce the fit's correction."""
    forecaster = copy.deepcopy(fitted_deterministic)  # the fixture is shared
    report = forecaster.training_report
    table = conformity_table(forecaster, deterministic_log)
    assert len(table) == report["calibration_prefixes"]
    assert table["case_id"].nunique() == report["calibration_cases"]
    end = deterministic_log["timestamp"].max() + pd.Timedelta(seconds=1)
    calibration = forecaster.recalibrate(deterministic_log, end, RecalibrationWindow(prefixes=10**6))
    assert calibration.pooled == pytest.approx(report["conformal_correction"], abs=1e-9)
    assert forecaster.recalibration["prefixes"] == report["calibration_prefixes"]


def test_recalibration_moves_the_interval_and_survives_save_and_load(drift, tmp_path):
    log, forecaster, prefixes, truth = drift
    forecaster = copy.deepcopy(forecaster)
    before = forecaster.predict(prefixes)
    calibration = forecaster.recalibrate(log, log["timestamp"].max() + pd.Timedelta(days=1),
                                         RecalibrationWindow(prefixes=300))
    after = forecaster.predict(prefixes)
    shift = calibration.pooled - forecaster.fit_calibration.pooled
    assert shift > 0.5  # days: the late cases are much slower
    widened = (after["upper_s"] - before["upper_s"]) / 86_400
    assert np.allclose(widened, shift)  # the upper bound moves by the change of correction
    info = forecaster.recalibration
    assert info["prefixes"] == 300 and info["cases"] > 0 and info["last_closed_at"] <= log["timestamp"].max()
    loaded = ResolutionForecaster.load(forecaster.save(tmp_path / "model.joblib"))
    pd.testing.assert_frame_equal(loaded.predict(prefixes), after)


def test_too_few_closed_cases_keep_the_fits_calibration(drift):
    log, forecaster, prefixes, truth = drift
    forecaster = copy.deepcopy(forecaster)
    early = log["timestamp"].min() + pd.Timedelta(days=3)
    calibration = forecaster.recalibrate(log, early)
    assert calibration == forecaster.fit_calibration
    assert forecaster.recalibration["calibration"] is None
    empty = forecaster.recalibrate(log.iloc[0:0], early)
    assert empty == forecaster.fit_calibration
    with pytest.raises(ValueError, match="timezone"):
        forecaster.recalibrate(log, pd.Timestamp("2024-06-01"))


def test_a_recalibration_put_back_predicts_as_the_recomputed_one(drift):
    """What a nightly job stores (moment, window, counts, correction) and a reader puts
    back with use_recalibration gives the same forecast and bookkeeping as recomputing."""
    log, forecaster, prefixes, truth = drift
    recomputed = copy.deepcopy(forecaster)
    moment = log["timestamp"].max() + pd.Timedelta(days=1)
    calibration = recomputed.recalibrate(log, moment, RecalibrationWindow(prefixes=300))
    info = recomputed.recalibration
    restored = copy.deepcopy(forecaster)
    restored.use_recalibration(info["at"], info["window"], info["prefixes"], info["cases"],
                               info["last_closed_at"], copy.deepcopy(calibration))
    assert restored.recalibration == info
    pd.testing.assert_frame_equal(restored.predict(prefixes), recomputed.predict(prefixes))
    assert restored.predict(prefixes)["upper_s"].ne(forecaster.predict(prefixes)["upper_s"]).all()
    with pytest.raises(ValueError, match="cannot replace"):
        restored.use_recalibration(info["at"], info["window"], 1, 1, None,
                                   type(calibration)("scaled", calibration.pooled, {}))
    # Each fit gets its own id (what a stored recalibration is tied to); copies and saves keep it.
    assert recomputed.model_id == forecaster.model_id and len(forecaster.model_id) == 32
    refit = ResolutionForecaster(**FAST).fit(log[log["case_id"].isin(log["case_id"].unique()[:200])])
    assert refit.model_id != forecaster.model_id
