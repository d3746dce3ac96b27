"""`servicepulse import events`, `servicepulse log stats`, `servicepulse effort train`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from servicepulse.cases import effort, facts_store
from servicepulse.cases.repository import cases_without_facts
from servicepulse.cases.service import ingest_events
from servicepulse.cli.app import app, import_app, log_app
from servicepulse.cli.context import console, engine, err_console
from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.eventlog import (
    EventLogError,
    log_stats,
    parse_mapping,
    read_event_log,
)

effort_app = typer.Typer(help="The Customer Effort Index: learn its weights from CES answers.", no_args_is_help=True)
app.add_typer(effort_app, name="effort")

FORMAT_HELP = "csv, jsonl or xes; detected from the file name when not given."
MAP_HELP = ("field=COLUMN (repeatable); fields: case_id, activity, timestamp, resource, team, channel, direction, "
            "line, customer_facing, event_id. Standard names (and XES keys) map themselves.")


def _read(file: Path, fmt: str | None, map_: list[str], timezone: str):
    if fmt is not None and fmt not in ("csv", "jsonl", "xes"):
        raise typer.BadParameter(f"'{fmt}' is not one of csv, jsonl, xes", param_hint="--format")
    return read_event_log(file, fmt, parse_mapping(map_), default_tz=timezone)


def _report(exc: EventLogError) -> None:
    """The message, then one line per bad row ('row 12: timestamp ... is not a date/time')."""
    err_console.print(f"[red]error:[/] {escape(exc.summary())}", highlight=False)


@import_app.command("events")
def import_events(
    file: Path = typer.Argument(..., help="Event log: CSV, JSON lines or XES, optionally gzipped."),
    fmt: str = typer.Option(None, "--format", help=FORMAT_HELP),
    map_: list[str] = typer.Option([], "--map", help=MAP_HELP),
    timezone: str = typer.Option("Europe/Amsterdam", "--timezone", help="Zone for timestamps without one."),
) -> None:
    """Import case events: all or nothing, duplicates (by event id) ignored, row errors reported."""
    try:
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("reading", total=None)
            frame = _read(file, fmt, map_, timezone)
            eng = engine()

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)


            with UnitOfWork(eng) as session:
                summary = ingest_events(session, frame, source=file.name, progress=progress)
    except EventLogError as exc:
        _report(exc)
        raise typer.Exit(1) from None
    console.print(f"{file.name}: {summary.stored} events stored, {summary.duplicates} already there; "
                  f"{summary.cases_touched} cases ({summary.cases_created} new), "
                  f"{summary.teams_created} new teams, {summary.customers_created} new customers")


@log_app.command("stats")
def stats(
    file: Path = typer.Argument(..., help="Event log: CSV, JSON lines or XES, optionally gzipped."),
    fmt: str = typer.Option(None, "--format", help=FORMAT_HELP),
    map_: list[str] = typer.Option([], "--map", help=MAP_HELP),
    timezone: str = typer.Option("Europe/Amsterdam", "--timezone", help="Zone for timestamps without one."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object."),
) -> None:
    """Process statistics of an event log (cases, events, variants, throughput, activities, directly-follows)."""
    try:
        figures = log_stats(_read(file, fmt, map_, timezone))
    except EventLogError as exc:
        _report(exc)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(figures, ensure_ascii=False))
        return
    t = figures["throughput_days"]
    console.print(f"{figures['cases']} cases, {figures['events']} events, {figures['variants']} variants; "
                  f"throughput mean {t['mean']:.2f} days, median {t['median']:.2f} days")
    table = Table("activity", "events")
    for name, count in figures["activities"].items():
        table.add_row(name, str(count))
    console.print(table)


@effort_app.command("train")
def effort_train(
    seed: int = typer.Option(2026, "--seed", help="Seed of the train/test split."),
    test_size: float = typer.Option(0.3, "--test-size", min=0.1, max=0.5, help="Share of cases held out."),
) -> None:
    """Learn the effort index weights from cases with a CES answer; print the held-out validation."""

    with UnitOfWork(engine()) as session:
        missing = cases_without_facts(session)
        if missing:
            with console.status(f"computing facts of {len(missing)} cases"):
                facts_store.recompute_all(session, missing)
        result = effort.train(session, seed=seed, test_size=test_size)
    v = result.validation
    console.print(f"effort model {result.model_id}: trained on {v['n_train']} cases, validated on {v['n_test']}")
    auc = "n/a" if v["auc_high_effort"] is None else f"{v['auc_high_effort']:.3f}"
    corr = "n/a" if v["correlation"] is None else f"{v['correlation']:.3f}"
    console.print(f"held-out: correlation with CES {corr}, AUC for high effort (CES <= 3) {auc}, "
                  f"MAE {v['mae']:.2f} (baseline {v['mae_baseline']:.2f})")
    table = Table("fact", "weight (CES points per SD)")
    for name, w in sorted(result.weights.items(), key=lambda kv: kv[1]):
        table.add_row(name, f"{w:+.3f}")
    console.print(table)
