"""What a fresh demo needs beyond its rows, so that every page is complete at first sight: the open
answers analysed (themes, sentiment, redaction), the Customer Effort Index trained, follow-ups opened by
the alert rules for the last two weeks' answers, the resolution-time forecaster trained, the open cases
forecast, a first signal run (each signal dated when the worker would have raised it) and the metric
aggregate built. In a live installation the worker and the
periodic jobs do this as data arrive; a demo arrives all at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicepulse.cases import effort
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import recovery
from servicepulse.demo.loader import progress_callback
from servicepulse.expectations import forecasting
from servicepulse.expectations.jobs import DEFAULT_EVERY
from servicepulse.expectations.signals import run_signals
from servicepulse.followups import alerts
from servicepulse.kernels.text.redact import DEFAULT_CUSTOMER_PATTERNS
from servicepulse.models.expectations import Signal, SignalRule
from servicepulse.responses import keep_daily_counts
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.settings import VerbatimSettings

# The demo organisation's customer numbers ("GN-K" and seven digits, see generate.py), redacted
# next to the kernel's defaults.
DEMO_CUSTOMER_PATTERNS = (r"\bGN-K\d{7}\b",)


def demo_verbatim_settings() -> VerbatimSettings:
    """The verbatim settings with the demo's customer-number pattern, unless the installation
    sets its own (SERVICEPULSE_VERBATIMS_CUSTOMER_PATTERNS wins)."""
    settings = VerbatimSettings()
    if settings.customer_patterns is None:
        settings = settings.model_copy(
            update={"customer_patterns": [*DEFAULT_CUSTOMER_PATTERNS, *DEMO_CUSTOMER_PATTERNS]})
    return settings


def analyse_verbatims(engine: Engine, progress=None) -> int:
    """Analyse every open answer of the demo (what the worker does for each new response); returns how many."""

    report = progress_callback(progress)
    report("open answers", 0, 1)
    with UnitOfWork(engine) as session:
        summary = analyse_responses(session, settings=demo_verbatim_settings(),
                                    progress=lambda done, total: report("open answers", done, total))
    return summary.analysed


def build_metric_aggregate(engine: Engine, progress=None) -> int:
    """Build the daily score counts the dashboard reads (what the hourly upkeep job does on its first run);
    returns the rows written."""

    report = progress_callback(progress)
    report("metric aggregate", 0, 1)
    with UnitOfWork(engine) as session:
        rows = keep_daily_counts(session).rows
    report("metric aggregate", 1, 1)
    return rows


DEMO_TRAINING_CASES = 5_000  # the most recently closed: enough for the demo, seconds on every size
FOLLOW_UP_WINDOW = timedelta(days=14)  # older answers would have been followed up long ago


def prepare_closed_loop(engine: Engine, now: datetime, progress=None) -> dict:
    """Train the effort index on the CES answers; open follow-ups for the recent answers that alert."""

    report = progress_callback(progress)
    report("effort index and follow-ups", 0, 1)
    with UnitOfWork(engine) as session:
        effort.train(session)
        # what the worker would have done as the last two weeks arrived: one follow-up per unhappy customer,
        # with the broken promises and high effort indexes of that time merged in as further reasons
        opened = alerts.run_all(session, now, since=now - FOLLOW_UP_WINDOW)
        recovery.work_older_followups(session, now)  # the older ones were worked: root causes, gestures
    report("effort index and follow-ups", 1, 1)
    return {"followups": opened["responses"] + opened["cases"]}


SIGNAL_SLOT = DEFAULT_EVERY  # the worker's signal runs: every 15 minutes, at aligned slots


def _next_slot(moment: datetime) -> datetime:
    step = SIGNAL_SLOT.total_seconds()
    return datetime.fromtimestamp(-(-moment.timestamp() // step) * step, tz=UTC)


def raised_as_the_worker_would(session: Session, signals: list[Signal], now: datetime) -> None:
    """Date each signal of the load's one run at the worker's first run that would have seen its cause, instead of
    all at load time: a case dark since three weeks was signalled 48 hours into its silence, a repeat contact at
    the slot after it, a promise due soon four hours before it is due; a forecast beyond a promise at the day's
    forecast refresh (the hours since the case's latest event, at most a day)."""
    rules = {r.id: r for r in session.scalars(select(SignalRule))}
    for signal in signals:
        rule = rules.get(signal.rule_id)
        params = (rule.params or {}) if rule is not None else {}
        details = signal.details or {}
        kind = rule.kind if rule is not None else details.get("rule")
        if kind == "dark_too_long" and details.get("since"):
            cause = datetime.fromisoformat(details["since"]) + timedelta(hours=float(params.get("hours", 48)))
        elif kind == "promise_due_soon" and details.get("due_at"):
            cause = datetime.fromisoformat(details["due_at"]) - timedelta(hours=float(params.get("hours", 4)))
        elif kind in ("reopened", "repeat_contact") and details.get("at"):
            cause = datetime.fromisoformat(details["at"])
        else:
            cause = now - timedelta(hours=signal.case_id % 24)  # spread over the day's refreshes
        cause = cause if cause.tzinfo else cause.replace(tzinfo=UTC)
        signal.fired_at = min(now, _next_slot(cause))
    session.flush()


def prepare_expectations(engine: Engine, data_dir: Path, now: datetime, progress=None) -> dict:
    """Train and save the forecaster (quick settings), store the open cases' forecasts, raise signals.

    Signals are recorded without notifications: the demo has no mail server to announce them to.
    ``progress``: ``progress(stage, done, total)`` or a rich Progress, as for `load_demo`.
    """

    report = progress_callback(progress)
    report("forecast model", 0, 1)
    with UnitOfWork(engine, readonly=True) as session:
        # the most recent cases, one seed each and a cap on boosting rounds: seconds rather than minutes on
        # every demo size, a little less precise
        model_file = forecasting.model_path(data_dir)
        forecaster = forecasting.train(session, model_file, max_cases=DEMO_TRAINING_CASES, n_seeds=1,
                                       interval_seeds=1, max_rounds=400)
    report("forecast model", 1, 1)
    report("forecasts and signals", 0, 1)
    with UnitOfWork(engine) as session:
        forecasts = forecasting.refresh_snapshots(session, now, forecaster, model_file=model_file)
        signals = run_signals(session, now, notify=False)
        raised_as_the_worker_would(session, signals, now)
    report("forecasts and signals", 1, 1)
    return {"forecasts": forecasts, "signals": len(signals)}
