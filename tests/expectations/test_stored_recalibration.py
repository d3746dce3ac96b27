"""The day's interval recalibration is computed once and kept next to the model.

The case page, the API and `forecast show` read the stored correction instead of
recomputing it on every view; a new UTC day, a retrained model or a file that
cannot be used (missing, corrupt, unreadable) makes the next reader recompute and
store it, never fail. The clock is each reader's own: the page's ``?at=``, the
API's ``now``, the CLI's ``--now`` and the job's ``now``.

"Recomputed" is observed twice over: a spy on the kernel's
``ResolutionForecaster.recalibrate`` (the real method runs) and the SQL statements
a page view sends.
"""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pandas as pd
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations import forecasting, stored_recalibration
from servicepulse.expectations.jobs import schedule_runs
from servicepulse.jobs.queue import run_pending
from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.models import Case
from servicepulse.org import service as org_service
from servicepulse.settings import get_settings

from ..conftest import database_copy
from ..web.conftest import login
from .helpers import T0, at, closed_cases, event, ingest


@pytest.fixture
def recomputations(monkeypatch) -> list[pd.Timestamp]:
    """The moments the kernel recalibration actually ran for."""
    calls: list[pd.Timestamp] = []
    real = ResolutionForecaster.recalibrate

    def spy(self, closed_events, now, window=None):
        calls.append(pd.Timestamp(now))
        return real(self, closed_events, now, window)

    monkeypatch.setattr(ResolutionForecaster, "recalibrate", spy)
    return calls


@contextmanager
def sql_statements(engine):
    """The SELECT statements sent while inside."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):  # not BEGIN (SQLite only), not writes
            sent.append(statement)

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


def _hours(moment) -> float:
    return (pd.Timestamp(moment) - pd.Timestamp(T0)).total_seconds() / 3600


def _build_history(engine) -> dict:
    """A model trained on 40 quick cases; then 40 slow cases close. ``day``: the hour
    (since T0) of a UTC midnight after them all; LATE closes at noon that day, so it
    counts from the next night on. OPEN is an open case with an event that morning.
    Built once per run and database (a template): the model file travels as bytes."""
    ingest(engine, closed_cases("Q", 40, 0, 12, 1.0, seed=7))
    with tempfile.TemporaryDirectory() as scratch:
        path = forecasting.model_path(Path(scratch))
        with UnitOfWork(engine) as s:
            forecasting.train(s, path, n_seeds=1, max_rounds=60)
        model = path.read_bytes()
    ingest(engine, closed_cases("S", 40, 610, 12, 4.0, seed=8))
    with UnitOfWork(engine, readonly=True) as s:
        last_close = max(s.scalars(select(Case.closed_at).where(Case.external_id.like("S%"))))
    day = _hours(pd.Timestamp(last_close).tz_convert("UTC").normalize() + pd.Timedelta(days=2))
    ingest(engine, [event("OPEN", 600, "Ticket opened", direction="inbound", facing=True, team="Front office"),
                    event("OPEN", 601, "Diagnosis"), event("OPEN", day + 8, "Waiting for parts"),
                    event("LATE", day - 100, "Ticket opened", direction="inbound", facing=True,
                          team="Front office"),
                    event("LATE", day - 99, "Diagnosis"),
                    event("LATE", day + 12, "Case closed")])
    return {"model": model, "day": day}


@pytest.fixture
def history(templates):
    """(engine, built) on a fresh copy of the history database."""
    with database_copy(templates, "stored-recalibration-history", _build_history) as pair:
        yield pair


@pytest.fixture
def engine(history):  # noqa: F811 - this module's tests all start from the history
    return history[0]


def _history(built: dict, data_dir: Path) -> SimpleNamespace:
    """The history's model placed in ``data_dir``, as `forecast train` would have left it."""
    path = forecasting.model_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(built["model"])
    return SimpleNamespace(path=path, file=stored_recalibration.path_for(path), day=built["day"])


def _stored(world) -> stored_recalibration.StoredRecalibration:
    stored = stored_recalibration.read(world.file)
    assert stored is not None, "the recalibration file should be there and valid"
    return stored


def _model_id(world) -> str:
    return forecasting.load_forecaster(world.path).model_id


@pytest.fixture
def web(history, settings, client, make_user, monkeypatch):
    """The app logged in, and the job and the API on the app's data directory."""
    monkeypatch.setenv("SERVICEPULSE_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    world = _history(history[1], settings.data_dir)
    make_user("lead@example.org", role="analyst", language="nl")  # analysts see every team's cases
    assert login(client, "lead@example.org").status_code == 303

    def page(hours: float) -> str:
        response = client.get(f"/expectations/cases/OPEN?at={quote(at(hours).isoformat())}")
        assert response.status_code == 200, response.text
        return response.text

    world.page = page
    yield world
    get_settings.cache_clear()


def _calibration_sentence(html: str) -> str:
    start = html.index('class="detail forecast-calibration"')
    return html[start:html.index("</p>", start)]


def test_the_second_page_view_of_the_day_reads_the_stored_correction(engine, web, recomputations):
    assert not web.file.exists()
    with sql_statements(engine) as first:
        html = web.page(web.day + 10)
    assert len(recomputations) == 1 and recomputations[0] == pd.Timestamp(at(web.day))
    stored = _stored(web)
    # Independently of the forecaster: the cases closed strictly before midnight that the
    # quantile models never saw - the 8 held-out quick cases and the 40 slow ones, not LATE.
    with UnitOfWork(engine, readonly=True) as s:
        closed = forecasting.training_events(s)
        forecaster = forecasting.load_forecaster(web.path)
    ends = closed.groupby("case_id")["timestamp"].max()
    known = ends.index[(ends < pd.Timestamp(at(web.day))) & ~ends.index.isin(list(forecaster.quantile_training_cases))]
    assert stored.cases == len(known) == 48 and stored.prefixes == 3 * 48  # four events: three prefixes each
    assert stored.computed_for == at(web.day) and stored.model_id == forecaster.model_id
    assert stored.window == "last 1000 prefixes" and stored.correction is not None
    assert "nu op 48 dossiers, afgesloten vóór" in _calibration_sentence(html)

    with sql_statements(engine) as second:
        again = web.page(web.day + 11)
    assert len(recomputations) == 1  # the stored correction, not a recomputation
    assert _calibration_sentence(again) == _calibration_sentence(html)
    # What the second view left out is exactly the recalibration's own reading.
    with UnitOfWork(engine, readonly=True) as s, sql_statements(engine) as alone:
        forecasting.recalibrate(s, forecasting.load_forecaster(web.path), at(web.day + 11))
    assert len(alone) >= 2 and len(first) - len(second) == len(alone)

    # The stored correction gives the interval a recomputation gives.
    with UnitOfWork(engine, readonly=True) as s:
        case_id = s.scalar(select(Case.id).where(Case.external_id == "OPEN"))
        from_file = forecasting.forecast_cases(s, [case_id], at(web.day + 11), forecasting.load_forecaster(web.path),
                                               model_file=web.path)[case_id]
        recomputed = forecasting.forecast_cases(s, [case_id], at(web.day + 11),
                                                forecasting.load_forecaster(web.path))[case_id]
    assert len(recomputations) == 3  # the two explicit recomputations above, not the file read
    assert from_file == recomputed and from_file.calibration_cases == 48


def test_the_job_pays_for_the_day_and_page_and_api_read_it(engine, web, client, recomputations):
    with UnitOfWork(engine) as s:
        schedule_runs(s, at(web.day + 1), every_minutes=0)
    summary = run_pending(engine, now=at(web.day + 1))
    assert summary.done >= 1 and summary.failed == summary.retried == 0
    assert len(recomputations) == 1 and _stored(web).computed_for == at(web.day)
    web.page(web.day + 10)
    with UnitOfWork(engine) as s:
        headers = {"Authorization": f"Bearer {org_service.create_api_key(s, 'crm', scopes=org_service.INSTALLATION_SCOPES).key}"}
    body = client.get(f"/api/v1/cases/OPEN/forecast?now={quote(at(web.day + 10).isoformat())}",
                      headers=headers).json()
    assert body["state"] == "ok" and body["interval_calibration_cases"] == 48
    assert pd.Timestamp(body["interval_calibrated_before"]) == pd.Timestamp(at(web.day))
    assert len(recomputations) == 1


def test_a_new_day_recomputes_and_a_look_at_the_past_keeps_todays_file(engine, history, cli, tmp_path,
                                                                       recomputations):
    url = engine.url.render_as_string(hide_password=False)
    world = _history(history[1], tmp_path / "data")  # the cli fixture's data directory

    def show(hours: float) -> str:
        code, out, err = cli(url, "forecast", "show", "OPEN", "--now", at(hours).isoformat())
        assert code == 0, err
        return " ".join(out.split())  # the console wraps at its width (80 columns without a terminal)

    assert "now 48 cases closed before" in show(world.day + 10)
    assert "now 48 cases closed before" in show(world.day + 20)
    assert len(recomputations) == 1
    # The next UTC day: the stored correction is a day old; LATE (closed at noon) now counts.
    assert "now 49 cases closed before" in show(world.day + 24 + 1)
    assert len(recomputations) == 2
    stored = _stored(world)
    assert stored.computed_for == at(world.day + 24) and stored.cases == 49
    show(world.day + 24 + 5)
    assert len(recomputations) == 2
    # The day before, looked at afterwards: recomputed for that day, today's file kept.
    assert "now 48 cases closed before" in show(world.day + 10)
    assert len(recomputations) == 3 and _stored(world) == stored


def test_retraining_invalidates_the_stored_correction(engine, web, recomputations):
    web.page(web.day + 10)
    old = _stored(web)
    with UnitOfWork(engine) as s:
        forecasting.train(s, web.path, n_seeds=1, max_rounds=60, random_state=3)
    new_id = _model_id(web)
    assert new_id != old.model_id
    web.page(web.day + 11)  # same day, another model
    assert len(recomputations) == 2
    stored = _stored(web)
    assert stored.model_id == new_id and stored.computed_for == old.computed_for
    # The retrained model is fit on all closed cases, so its correction differs; its file serves it from now on.
    web.page(web.day + 12)
    assert len(recomputations) == 2


@pytest.mark.parametrize("content", [
    b"{not json",
    b"",
    b"\xff\xfe\x00garbage",
    b'{"format": 1}',
    "same, with the correction's number spoiled",
    "same, from a future format",
    "same, with an interval method nobody knows",
])
def test_a_file_that_cannot_be_used_is_ignored_and_replaced(engine, web, recomputations, content):
    web.page(web.day + 10)
    good = json.loads(web.file.read_text())
    if isinstance(content, str):
        spoiled = dict(good)
        if "number" in content:
            spoiled["correction"] = {**good["correction"], "pooled": "a lot"}
        elif "format" in content:
            spoiled["format"] = 99
        else:
            spoiled["correction"] = {**good["correction"], "method": "astrology"}
        content = json.dumps(spoiled).encode()
    web.file.write_bytes(content)
    html = web.page(web.day + 11)  # no 500: recomputed, and the file is good again
    assert "nu op 48 dossiers" in _calibration_sentence(html)
    assert len(recomputations) == 2
    assert json.loads(web.file.read_text()) == good
    web.page(web.day + 12)  # and used again
    assert len(recomputations) == 2


def test_an_unreadable_and_unwritable_file_never_fails_a_page(engine, web, recomputations):
    web.file.parent.mkdir(parents=True, exist_ok=True)
    web.file.mkdir()  # a folder where the file should be: it can be neither read nor replaced
    for hours in (10, 11):
        assert "nu op 48 dossiers" in _calibration_sentence(web.page(web.day + hours))
    assert len(recomputations) == 2  # every view pays, as before there was a file; none fails
    assert web.file.is_dir() and not [p for p in web.file.parent.iterdir() if p.name.endswith(".tmp")]
