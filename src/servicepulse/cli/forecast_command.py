"""`servicepulse forecast train|show` and `servicepulse signals run`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import select

from servicepulse.cli.app import app, forecast_app
from servicepulse.cli.context import console, engine, moment_option
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ServicepulseError
from servicepulse.expectations import forecasting
from servicepulse.expectations.signals import run_signals
from servicepulse.kernels.eventlog.errors import EventLogError
from servicepulse.kernels.eventlog.readers import read_event_log
from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import evaluate_protocol
from servicepulse.models import Case
from servicepulse.models.expectations import SignalRule
from servicepulse.settings import get_settings

signals_app = typer.Typer(help="Proactive-communication signals on open cases.", no_args_is_help=True)
app.add_typer(signals_app, name="signals")

NOW_HELP = "The moment to evaluate as (ISO 8601 with an offset, e.g. 2026-10-31T12:00:00+01:00); default: now."


class NotEnoughHistory(ServicepulseError):
    """Too few closed cases to learn from."""


@forecast_app.command("train")
def train_command(
    seeds: int = typer.Option(3, help="Point models averaged (fewer is faster, a little less steady)."),
    max_rounds: int = typer.Option(3000, help="Upper bound on boosting rounds (early stopping picks fewer)."),
    max_cases: int = typer.Option(None, min=50, help="Learn from the most recently closed cases only (faster on a "
                                                    "long history, and closer to today's process); default: all."),
    evaluate: Path = typer.Option(None, exists=True, dir_okay=False, help=(
        "Instead of training on the database: score the method on this event log (XES, CSV or JSON lines, "
        "optionally gzipped) by the literature's protocol (64/16/20 chronological split by first event, every "
        "prefix of length 2..n-1 of the test cases) and print MAE, 80% coverage and the baseline.")),
    timezone: str = typer.Option("UTC", help="With --evaluate: the organisation's timezone (calendar features)."),
) -> None:
    """Train the resolution-time forecaster on the closed cases and save it under the data directory."""

    if evaluate is not None:
        _evaluate_log(evaluate, timezone, n_seeds=seeds, max_rounds=max_rounds)
        return
    path = forecasting.model_path(get_settings().data_dir)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar, UnitOfWork(engine(), readonly=True) as session:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            label = {"read": "reading closed cases", "fit": "fitting the model"}.get(stage, stage)
            if stage not in tasks:
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            forecaster = forecasting.train(session, path, progress, max_cases=max_cases, n_seeds=seeds,
                                            max_rounds=max_rounds)
        except ValueError as exc:
            raise NotEnoughHistory(f"cannot train the forecaster: {exc}") from None
    report = forecaster.training_report
    console.print(f"Model saved to {path}")
    console.print(", ".join(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}" for k, v in report.items()
                            if not isinstance(v, dict)), highlight=False)


def _evaluate_log(path: Path, timezone: str, **options) -> None:
    """The protocol's table for a user's log, with exactly the method `forecast train` uses."""
    try:
        events = read_event_log(path)
    except EventLogError as exc:
        raise ServicepulseError(str(exc)) from None
    keep = [c for c in ("case_id", "activity", "timestamp", "resource", "team", "channel")
            if c in events.columns and events[c].notna().any()]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            label = {"fit": "fitting (train + validation cases)", "score": "scoring the test prefixes"}[stage]
            if stage not in tasks:
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = evaluate_protocol(events[keep], lambda: ResolutionForecaster(timezone=timezone, **options),
                                       timezone=timezone, progress=progress)
        except ValueError as exc:
            raise NotEnoughHistory(f"cannot evaluate on {path.name}: {exc}") from None
    train, valid, test = result["cases"]
    # One figure per row: the table reads the same in an 80-column terminal as in a wide one.
    table = Table(title=f"{path.name}: remaining time, test = newest 20% of {train + valid + test} cases")
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    for name, value in (("test prefixes", str(result["prefixes"])), ("MAE (days)", f"{result['mae_days']:.3f}"),
                        ("80% coverage", f"{result['coverage']:.3f}"),
                        ("interval as fit", f"{result['static_coverage']:.3f}"),
                        ("baseline MAE", f"{result['baseline_mae_days']:.3f}"), ("fit (s)", f"{result['fit_s']:.1f}"),
                        ("predict (ms/prefix)", f"{result['predict_ms_per_prefix']:.2f}")):
        table.add_row(name, value)
    console.print(table)
    console.print(f"Chosen on the validation cases: {result['model']}; nightly recalibration window "
                  f"{result['window']}; estimate conditioned on closing by the log's last event: "
                  f"{'yes' if result['truncation'] else 'no'} (every case of a log scored this way closed by then; "
                  f"open cases in the product have no such bound, so it is never used there). "
                  f"Baseline: mean remaining time by prefix length (train cases). "
                  f"80% coverage: with the nightly recalibration, as the product serves it.", highlight=False)


@forecast_app.command("show")
def show_command(case: str = typer.Argument(..., help="The case's external id."),
                 now: str = typer.Option(None, help=NOW_HELP)) -> None:
    """The forecast for one case: expected resolution, the 80% interval and the promise to give."""

    moment = moment_option(now)
    path = forecasting.model_path(get_settings().data_dir)
    forecaster = forecasting.load_forecaster(path)
    with UnitOfWork(engine(), readonly=True) as session:
        row = session.scalar(select(Case).where(Case.external_id == case))
        if row is None:
            raise NotFound(f"there is no case {case!r}")
        result = forecasting.forecast_cases(session, [row.id], moment, forecaster, model_file=path)[row.id]
    if result.state == "no_model":
        console.print("No forecast: no trained model yet. Run `servicepulse forecast train`.")
        return
    if result.state == "no_history":
        console.print(f"No forecast for {case}: not enough history (no events yet).")
        return
    if result.state == "closed":
        console.print(f"Case {case} is closed: nothing to forecast.")
        return
    fmt = "%a %d %b %Y %H:%M %Z"
    console.print(f"Case {case}: expected resolved by {result.expected_at:{fmt}}; 80% between "
                  f"{result.lower_at:{fmt}} and {result.upper_at:{fmt}}.", highlight=False)
    console.print(f"Suggested promise: {result.promise_at:{fmt}}.", highlight=False)
    console.print(f"(Counted from the last event at {result.anchor_at:{fmt}}; "
                  f"{result.elapsed_s / 3600:.1f} hours since then are already subtracted.)", highlight=False)
    if result.note:
        console.print(f"Note: {result.note}", highlight=False)
    if result.calibration_cases:
        console.print(f"(The 80% interval is recalibrated nightly on recently closed cases: now "
                      f"{result.calibration_cases} cases closed before {result.calibrated_before:{fmt}}.)",
                      highlight=False)
    else:
        console.print("(The 80% interval is calibrated as at training: too few recently closed cases "
                      "to recalibrate it yet.)", highlight=False)


@signals_app.command("run")
def run_command(now: str = typer.Option(None, help=NOW_HELP),
                refresh_forecasts: bool = typer.Option(True, help="Refresh open cases' forecasts first.")) -> None:
    """Evaluate promises and signal rules once; new signals are recorded (each cause once) and notified."""

    moment = moment_option(now)
    with UnitOfWork(engine()) as session:
        refreshed = 0
        if refresh_forecasts:
            path = forecasting.model_path(get_settings().data_dir)
            refreshed = forecasting.refresh_snapshots(session, moment, forecasting.load_forecaster(path),
                                                      model_file=path)
        new = run_signals(session, moment)
        keys = {r.id: r.key for r in session.scalars(select(SignalRule))}
        counts: dict[str, int] = {}
        for signal in new:
            counts[keys[signal.rule_id]] = counts.get(keys[signal.rule_id], 0) + 1
    table = Table(title=f"Signals at {moment:%Y-%m-%d %H:%M} UTC")
    table.add_column("rule")
    table.add_column("new signals", justify="right")
    for key in sorted(keys.values()):
        table.add_row(key, str(counts.get(key, 0)))
    console.print(table)
    console.print(f"{len(new)} new signal(s); forecasts refreshed for {refreshed} open case(s).")
