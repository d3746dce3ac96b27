"""What a fresh demo needs beyond its rows: the open answers analysed (themes, sentiment, redaction), a
trained resolution-time forecaster, the forecasts of the open cases and a first signal run, so the
verbatim pages, the expectations dashboard and the case pages are complete at first sight instead of
after the worker has worked through its queue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.loader import progress_callback


def analyse_verbatims(engine: Engine, progress=None) -> int:
    """Analyse every open answer of the demo (what the worker does for each new response); returns how many."""
    from servicepulse.verbatims.analysis import analyse_responses

    report = progress_callback(progress)
    report("open answers", 0, 1)
    with UnitOfWork(engine) as session:
        summary = analyse_responses(session, progress=lambda done, total: report("open answers", done, total))
    return summary.analysed


def prepare_expectations(engine: Engine, data_dir: Path, now: datetime, progress=None) -> dict:
    """Train and save the forecaster (quick settings), store the open cases' forecasts, raise signals.

    Signals are recorded without notifications: the demo has no mail server to announce them to.
    ``progress``: ``progress(stage, done, total)`` or a rich Progress, as for `load_demo`.
    """
    from servicepulse.expectations import forecasting
    from servicepulse.expectations.signals import run_signals

    report = progress_callback(progress)
    report("forecast model", 0, 1)
    with UnitOfWork(engine, readonly=True) as session:
        # one seed and a cap on boosting rounds: seconds rather than a minute, a little less precise
        forecaster = forecasting.train(session, forecasting.model_path(data_dir), n_seeds=1, max_rounds=400)
    report("forecast model", 1, 1)
    report("forecasts and signals", 0, 1)
    with UnitOfWork(engine) as session:
        forecasts = forecasting.refresh_snapshots(session, now, forecaster)
        signals = run_signals(session, now, notify=False)
    report("forecasts and signals", 1, 1)
    return {"forecasts": forecasts, "signals": len(signals)}
