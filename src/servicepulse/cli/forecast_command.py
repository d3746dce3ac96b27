"""`servicepulse forecast train|show` and `servicepulse signals run`."""

from __future__ import annotations

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
) -> None:
    """Train the resolution-time forecaster on the closed cases and save it under the data directory."""

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
