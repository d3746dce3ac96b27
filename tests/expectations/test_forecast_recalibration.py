"""The periodic forecast job recalibrates the 80% interval on the cases closed before
the start of the day, read from the database (controllable clock: the job's ``now``).

The model is trained on quick cases; then slower cases close. A job run before
they closed keeps the training run's correction; a run the day after uses them and
widens the interval; a case closing after midnight waits for the next night.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations import forecasting
from servicepulse.expectations.jobs import schedule_runs
from servicepulse.jobs.queue import run_pending
from servicepulse.kernels.forecast.recalibration import RecalibrationWindow
from servicepulse.models import Case
from servicepulse.models.expectations import ForecastSnapshot
from servicepulse.settings import get_settings

from .helpers import at, closed_cases, event, ingest


def _midnight(hours: float) -> pd.Timestamp:
    return pd.Timestamp(at(hours)).tz_convert("UTC").normalize()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SERVICEPULSE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings().data_dir
    get_settings.cache_clear()


def _snapshot(engine, external_id: str) -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        case_id = s.scalar(select(Case.id).where(Case.external_id == external_id))
        row = s.scalar(select(ForecastSnapshot).where(ForecastSnapshot.case_id == case_id))
        return {"case_id": case_id, "upper_s": row.upper_s}


def _run_job(engine, hours: float) -> None:
    with UnitOfWork(engine) as s:
        schedule_runs(s, at(hours), every_minutes=0)
    summary = run_pending(engine, now=at(hours))  # with whatever the new events queued
    assert summary.done >= 1 and summary.failed == summary.retried == 0


def test_job_recalibrates_on_cases_closed_before_the_day(engine, data_dir):
    # 40 quick cases (hours 0..~500), the model trained on them.
    ingest(engine, closed_cases("Q", 40, 0, 12, 1.0, seed=7))
    path = forecasting.model_path(data_dir)
    with UnitOfWork(engine) as s:
        trained = forecasting.train(s, path, n_seeds=1, max_rounds=60)
    quantile_cases = trained.quantile_training_cases
    # An open case, then 40 cases four times slower, all closed by hour ~1750.
    ingest(engine, [event("OPEN", 600, "Ticket opened", direction="inbound", facing=True, team="Front office"),
                    event("OPEN", 601, "Diagnosis")])
    ingest(engine, closed_cases("S", 40, 610, 12, 4.0, seed=8))

    # Hour 602: the slow cases are not closed yet; the window holds only the
    # training run's held-out cases (24 prefixes < 100): the fit's correction.
    _run_job(engine, 602)
    before = _snapshot(engine, "OPEN")
    with UnitOfWork(engine, readonly=True) as s:
        early = forecasting.forecast_cases(s, [before['case_id']], at(602), forecasting.load_forecaster(path))
    assert early[before['case_id']].calibration_cases is None
    plain = forecasting.load_forecaster(path)  # never recalibrated: the fit's correction
    with UnitOfWork(engine, readonly=True) as s:
        open_events = forecasting._event_frame(s, [before['case_id']], at(602))
    elapsed_602 = (at(602) - at(601)).total_seconds()
    assert before['upper_s'] == pytest.approx(plain.predict(open_events)["upper_s"].iloc[0] - elapsed_602)

    # Two days after the last slow close: they are all in the window.
    with UnitOfWork(engine, readonly=True) as s:
        last_close = max(s.scalars(select(Case.closed_at).where(Case.external_id.like("S%"))))
    hours = (pd.Timestamp(last_close) - pd.Timestamp(at(0))).total_seconds() / 3600 + 48
    # A slow case that closes half an hour after midnight of that day: not in the
    # window until the next night, though the job runs after it closed.
    midnight = _midnight(hours)
    late = (midnight - pd.Timestamp(at(0))).total_seconds() / 3600 + 0.5
    hours = max(hours, late + 1)
    ingest(engine, [event("LATE", late - 100, "Ticket opened", direction="inbound", facing=True,
                          team="Front office"),
                    event("LATE", late - 99, "Diagnosis"),
                    event("LATE", late - 50, "Customer informed", direction="outbound", facing=True),
                    event("LATE", late, "Case closed"),
                    # The open case gets a later event so that it is current then.
                    event("OPEN", hours - 1, "Waiting for parts")])
    _run_job(engine, hours)
    after = _snapshot(engine, "OPEN")

    with UnitOfWork(engine, readonly=True) as s:
        result = forecasting.forecast_cases(s, [after['case_id']], at(hours), forecasting.load_forecaster(path))
        closed = forecasting.training_events(s)
    got = result[after['case_id']]
    # Independently: the cases closed strictly before midnight that the quantile models never saw.
    ends = closed.groupby("case_id")["timestamp"].max()
    known = ends.index[(ends < midnight) & ~ends.index.isin(list(quantile_cases))]
    assert got.calibration_cases == len(known) == 8 + 40  # held-out quick cases + slow ones; not LATE
    assert pd.Timestamp(got.calibrated_before) == midnight
    assert after['upper_s'] == pytest.approx(got.upper_s)
    # The kernel on the same history reproduces the job's interval (SQL window = kernel window).
    kernel = forecasting.load_forecaster(path)
    kernel.recalibrate(closed[closed["case_id"].isin(known)], midnight, RecalibrationWindow())
    with UnitOfWork(engine, readonly=True) as s:
        open_events = forecasting._event_frame(s, [after['case_id']], at(hours))
    elapsed = (pd.Timestamp(at(hours)) - open_events["timestamp"].max()).total_seconds()
    assert after['upper_s'] == pytest.approx(kernel.predict(open_events)["upper_s"].iloc[0] - elapsed)
    # The slower cases widen the interval well beyond the training run's.
    fit_upper = plain.predict(open_events)["upper_s"].iloc[0] - elapsed
    assert after['upper_s'] > fit_upper + 24 * 3600

    # The next night LATE is in the window too.
    next_day = hours + 24
    with UnitOfWork(engine, readonly=True) as s:
        later = forecasting.forecast_cases(s, [after['case_id']], at(next_day), forecasting.load_forecaster(path))
    assert later[after['case_id']].calibration_cases == 8 + 40 + 1
