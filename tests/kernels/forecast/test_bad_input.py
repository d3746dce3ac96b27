"""Bad input gets a clear answer, never a traceback from deep inside pandas or LightGBM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import NotFittedError, ResolutionForecaster

from .synthetic import FAST, make_log

OUTPUT = ["remaining_s", "lower_s", "upper_s"]


def _one_case(activities, times, case_id="open-1", **extra) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"case_id": case_id, "activity": activities, "timestamp": pd.to_datetime(times, utc=True)}
    )
    for name, value in extra.items():
        frame[name] = value
    return frame


def test_predict_before_fit_says_what_to_do():
    with pytest.raises(NotFittedError, match=r"fit\(events\).*load\(path\)"):
        ResolutionForecaster().predict(_one_case(["Register"], ["2025-01-01T09:00Z"]))
    with pytest.raises(ValueError):  # also a ValueError, like scikit-learn's
        ResolutionForecaster().save("unused.joblib")


@pytest.mark.parametrize("column", ["case_id", "activity", "timestamp"])
def test_missing_column_is_named(fitted_deterministic, deterministic_log, column):
    with pytest.raises(ValueError, match=f"'{column}'"):
        fitted_deterministic.predict(deterministic_log.drop(columns=column))
    with pytest.raises(ValueError, match=f"'{column}'"):
        ResolutionForecaster().fit(deterministic_log.drop(columns=column))


def test_naive_timestamps_are_refused_with_advice(fitted_deterministic):
    naive = _one_case(["Register", "Triage"], ["2025-01-01T09:00Z", "2025-01-01T12:00Z"])
    naive["timestamp"] = naive["timestamp"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="naive.*tz_localize"):
        fitted_deterministic.predict(naive)


def test_string_timestamp_without_offset_names_the_row(fitted_deterministic):
    frame = pd.DataFrame(
        {
            "case_id": ["a", "a", "b"],
            "activity": ["Register", "Triage", "Register"],
            "timestamp": ["2025-01-01T09:00:00+01:00", "2025-01-02T09:00:00+01:00", "2025-01-03 10:00"],
        }
    )
    with pytest.raises(ValueError, match=r"row 2 \(case_id 'b'\).*no timezone"):
        fitted_deterministic.predict(frame)
    frame.loc[2, "timestamp"] = "yesterday-ish"
    with pytest.raises(ValueError, match=r"row 2 .*not a date"):
        fitted_deterministic.predict(frame)


def test_mixed_offsets_are_accepted(fitted_deterministic):
    # Summer and winter time in one column: fine, brought to one zone.
    frame = pd.DataFrame(
        {
            "case_id": ["a", "a"],
            "activity": ["Register", "Triage"],
            "timestamp": ["2025-03-29T09:00:00+01:00", "2025-03-31T09:00:00+02:00"],
        }
    )
    assert list(fitted_deterministic.predict(frame).index) == ["a"]


def test_empty_case_id_and_missing_timestamp_name_the_row(fitted_deterministic):
    frame = _one_case(["Register", "Triage"], ["2025-01-01T09:00Z", "2025-01-01T12:00Z"])
    frame.loc[1, "case_id"] = None
    with pytest.raises(ValueError, match=r"'case_id': row 1 .*empty"):
        fitted_deterministic.predict(frame)
    frame = _one_case(["Register", "Triage"], ["2025-01-01T09:00Z", "2025-01-01T12:00Z"])
    frame.loc[1, "timestamp"] = pd.NaT
    with pytest.raises(ValueError, match=r"'timestamp': row 1 .*no timestamp"):
        fitted_deterministic.predict(frame)


def test_not_a_dataframe(fitted_deterministic):
    with pytest.raises(ValueError, match="pandas DataFrame"):
        fitted_deterministic.predict([("a", "Register", "2025-01-01")])


def _valid(forecast: pd.DataFrame) -> bool:
    values = forecast[OUTPUT].to_numpy()
    return bool(
        np.isfinite(values).all()
        and (forecast["lower_s"] >= 0).all()
        and (forecast["lower_s"] <= forecast["remaining_s"]).all()
        and (forecast["remaining_s"] <= forecast["upper_s"]).all()
    )


def test_single_event_prefix_gets_a_forecast(fitted_deterministic):
    forecast = fitted_deterministic.predict(_one_case(["Register"], ["2025-06-01T09:00Z"]))
    assert _valid(forecast)
    # Register alone: 3.5 days (phone path) or 8.5 days (escalation); no channel
    # given, so the estimate must lie within that range.
    assert 3.0 * 86_400 <= forecast.loc["open-1", "remaining_s"] <= 9.0 * 86_400


def test_events_all_at_one_timestamp(fitted_deterministic):
    same = _one_case(["Register", "Triage", "Fix"], ["2025-06-01T09:00Z"] * 3)
    assert _valid(fitted_deterministic.predict(same))


def test_training_cases_without_duration_forecast_zero():
    log = make_log(40, sigma=0.0, seed=11)
    log["timestamp"] = log.groupby("case_id")["timestamp"].transform("min")
    forecast = ResolutionForecaster(**FAST).fit(log).predict(log.head(2))
    assert np.allclose(forecast[OUTPUT].to_numpy(), 0.0, atol=1.0)


def test_unknown_activity_and_resource_are_noted_not_fatal(fitted_deterministic):
    prefix = _one_case(
        ["Register", "Call customer back"], ["2025-06-01T09:00Z", "2025-06-01T10:00Z"], resource="new-hire"
    )
    forecast = fitted_deterministic.predict(prefix)
    assert _valid(forecast)
    assert "Call customer back" in forecast.attrs["notes"]["open-1"]


def test_empty_prefixes_give_empty_frame(fitted_deterministic, deterministic_log):
    forecast = fitted_deterministic.predict(deterministic_log.iloc[0:0])
    assert forecast.empty and list(forecast.columns) == OUTPUT and forecast.index.name == "case_id"


def test_too_few_cases_to_learn_from():
    log = make_log(5, sigma=0.0, seed=12)
    with pytest.raises(ValueError, match="at least 10 closed cases"):
        ResolutionForecaster().fit(log)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="coverage"):
        ResolutionForecaster(coverage=80)
    with pytest.raises(ValueError, match="calibration_fraction"):
        ResolutionForecaster(calibration_fraction=0.0)


def test_output_shape_index_and_columns(fitted_deterministic, deterministic_log):
    prefixes = deterministic_log.groupby("case_id").head(2)
    shuffled = prefixes.sample(frac=1.0, random_state=0)
    forecast = fitted_deterministic.predict(shuffled)
    assert list(forecast.columns) == OUTPUT
    assert forecast.index.name == "case_id"
    assert sorted(forecast.index) == sorted(prefixes["case_id"].unique())
    assert all(dtype == np.float64 for dtype in forecast.dtypes)
    # Row order of the input does not matter.
    assert forecast.sort_index().equals(fitted_deterministic.predict(prefixes).sort_index())
