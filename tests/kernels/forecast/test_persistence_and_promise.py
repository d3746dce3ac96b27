"""Saving and loading a model, and turning a forecast into dates and a promise."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster, WorkingCalendar, describe_forecast, suggest_promise

AMS = "Europe/Amsterdam"


def test_save_load_round_trip(tmp_path, fitted_deterministic, deterministic_log):
    prefixes = deterministic_log.groupby("case_id").head(2)
    path = fitted_deterministic.save(tmp_path / "models" / "forecast.joblib")
    loaded = ResolutionForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict(prefixes), fitted_deterministic.predict(prefixes))
    assert loaded.training_report == fitted_deterministic.training_report


def test_load_refuses_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved forecaster"):
        ResolutionForecaster.load(tmp_path / "absent.joblib")
    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    with pytest.raises(ValueError, match="holds a dict"):
        ResolutionForecaster.load(tmp_path / "dict.joblib")
    (tmp_path / "garbage.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="not a saved ResolutionForecaster"):
        ResolutionForecaster.load(tmp_path / "garbage.joblib")


def _ams(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=AMS)


@pytest.mark.parametrize(
    ("upper", "promise"),
    [
        ("2025-03-12 10:00", "2025-03-12 17:00"),  # Wednesday morning: same day, end of day
        ("2025-03-12 17:00", "2025-03-12 17:00"),  # exactly at the end of the day
        ("2025-03-12 17:01", "2025-03-13 17:00"),  # after hours: next working day
        ("2025-03-14 18:30", "2025-03-17 17:00"),  # Friday evening: Monday
        ("2025-03-15 09:00", "2025-03-17 17:00"),  # Saturday: Monday
    ],
)
def test_promise_rounds_up_to_end_of_working_day(upper, promise):
    assert suggest_promise(_ams(upper), WorkingCalendar(timezone=AMS)) == _ams(promise)


def test_promise_skips_holidays_and_converts_zones():
    calendar = WorkingCalendar(timezone=AMS, holidays=frozenset({dt.date(2025, 4, 21)}))  # Easter Monday
    # Saturday 19 April, 23:30 UTC is already Sunday in Amsterdam; Monday is a holiday.
    assert suggest_promise(pd.Timestamp("2025-04-19 23:30", tz="UTC"), calendar) == _ams("2025-04-22 17:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        suggest_promise(pd.Timestamp("2025-04-19 10:00"), calendar)


def test_describe_forecast_text_and_dates():
    anchor = pd.Timestamp("2025-03-10 09:00", tz=AMS)  # Monday
    day = 86_400
    described = describe_forecast(anchor, 2 * day, 1 * day, 4 * day + 3600 * 9, calendar=WorkingCalendar(timezone=AMS))
    assert described.expected_at == _ams("2025-03-12 09:00")
    assert described.upper_at == _ams("2025-03-14 18:00")
    assert described.promise_at == _ams("2025-03-17 17:00")
    assert described.text == (
        "Expected resolved by Wed 12 Mar 2025; 80% between Tue 11 Mar 2025 and "
        "Fri 14 Mar 2025. Suggested promise: Mon 17 Mar 2025, 17:00."
    )


def test_summary_per_case(fitted_deterministic, deterministic_log):
    prefixes = deterministic_log.groupby("case_id").head(2).head(10)
    summary = fitted_deterministic.summary(prefixes)
    forecast = fitted_deterministic.predict(prefixes)
    assert list(summary.columns) == ["expected_at", "lower_at", "upper_at", "promise_at", "text"]
    assert sorted(summary.index) == sorted(forecast.index)
    anchor = prefixes.groupby("case_id")["timestamp"].max()
    for case_id, row in summary.iterrows():
        expected = anchor[case_id] + pd.Timedelta(seconds=forecast.loc[case_id, "remaining_s"])
        assert abs(row["expected_at"] - expected) < pd.Timedelta(seconds=1)
        assert row["promise_at"] >= row["upper_at"] >= row["expected_at"] >= row["lower_at"]
        assert row["text"].startswith("Expected resolved by ")
