"""`servicepulse import responses`, `servicepulse survey ...` and `servicepulse webhook ...`."""

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

from servicepulse.cli.app import app, import_app
from servicepulse.cli.context import console, engine, err_console
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.responses import csv_import, webhooks_out
from servicepulse.surveys import (
    list_surveys,
    load_template,
    template_names,
    upsert_survey,
)
from servicepulse.surveys.loader import read_definition_file

survey_app = typer.Typer(help="Survey definitions: load from YAML/JSON, list, load a shipped template.",
                         no_args_is_help=True)
webhook_app = typer.Typer(help="Outgoing webhooks: where new responses are pushed to.", no_args_is_help=True)
app.add_typer(survey_app, name="survey")
app.add_typer(webhook_app, name="webhook")

MAX_ROWS_SHOWN = 50


@import_app.command("responses")
def import_responses(
    file: Path = typer.Argument(..., help="CSV file (comma, semicolon or tab separated; UTF-8 or Windows-1252)."),
    survey: str = typer.Option(..., "--survey", help="Key of the survey the answers belong to."),
    map_: list[str] = typer.Option([], "--map", help="COLUMN=TARGET, TARGET a question key or one of "
                                   "external_id, customer, case, submitted_at, language, channel (repeatable). "
                                   "Columns already named like that map themselves."),
    timezone: str = typer.Option(None, "--timezone", help="Zone for timestamps without one, e.g. Europe/Amsterdam."),
    channel: str = typer.Option("csv", "--channel", help="Channel recorded on the responses."),
    delimiter: str = typer.Option(None, "--delimiter", help="Cell separator; detected when not given."),
    alerts: bool = typer.Option(False, "--alerts", help="Run the closed loop's alert rules on the imported answers "
                                "(default: historic answers open no follow-ups; even with --alerts only answers "
                                "younger than the alert age limit do)."),
) -> None:
    """Import survey responses from a CSV file: every row or none, with a report of each bad row."""
    mapping = csv_import.parse_mapping(map_)
    eng = engine()
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("checking and storing rows", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            with UnitOfWork(eng) as session:
                summary = csv_import.import_responses(session, file, survey, mapping, timezone=timezone,
                                                      channel=channel, delimiter=delimiter, progress=progress,
                                                      alerts=alerts)
        except csv_import.CsvImportFailed as exc:
            bar.stop()
            _report(exc)
            raise typer.Exit(1) from None
    console.print(f"imported {summary.created} new responses from {summary.rows} rows "
                  f"({summary.replayed} were already stored)")


def _report(exc: csv_import.CsvImportFailed) -> None:
    table = Table(title=f"{len(exc.errors)} problem(s) in {exc.rows} rows; nothing was imported", title_justify="left")
    table.add_column("row", justify="right")
    table.add_column("column")
    table.add_column("problem")
    for error in exc.errors[:MAX_ROWS_SHOWN]:
        table.add_row(str(error.row), error.column or "-", error.message)
    err_console.print(table)
    if len(exc.errors) > MAX_ROWS_SHOWN:
        err_console.print(f"... and {len(exc.errors) - MAX_ROWS_SHOWN} more")


@survey_app.command("load")
def survey_load(files: list[Path] = typer.Argument(..., help="Survey definition files (YAML or JSON).")) -> None:
    """Create surveys from definition files; a changed definition becomes a new version."""
    with UnitOfWork(engine()) as session:
        for path in files:
            try:
                definition = read_definition_file(path)
            except RecursionError:  # '[' * 100000: deeper than the JSON and YAML parsers go
                raise ValidationFailed(f"{path}: the definition is nested too deeply to read",
                                       [("file", "nested too deeply")]) from None
            change = upsert_survey(session, definition)
            console.print(f"{path}: survey [bold]{change.version.survey.key}[/] version {change.version.version} "
                          f"({change.status.replace('_', ' ')})")


@survey_app.command("template")
def survey_template(
    name: str = typer.Argument(..., help="Template name; see `servicepulse survey list --templates`."),
    moment: str = typer.Option(None, "--moment", help="journey_key/moment_key to link the survey to."),
    key: str = typer.Option(None, "--key", help="Survey key (default: the template's)."),
) -> None:
    """Create a survey from a shipped template."""
    with UnitOfWork(engine()) as session:
        version = load_template(session, name, moment=moment, key=key)
        console.print(f"survey [bold]{version.survey.key}[/] version {version.version}")


@survey_app.command("list")
def survey_list(templates: bool = typer.Option(False, "--templates", help="List the shipped templates instead.")) -> None:
    """List surveys with their versions, moments and questions."""
    if templates:
        for name in template_names():
            console.print(name)
        return
    with UnitOfWork(engine(), readonly=True) as session:
        surveys = list_surveys(session)
    table = Table()
    for column in ("key", "version", "moment", "questions"):
        table.add_column(column)
    for s in surveys:
        table.add_row(s["key"], str(s["version"]), s["moment"] or "-",
                      ", ".join(f"{q['key']} ({q['type']}{', required' if q['required'] else ''})" for q in s["questions"]))
    console.print(table)


@webhook_app.command("add")
def webhook_add(
    name: str = typer.Argument(..., help="A name for the receiver."),
    url: str = typer.Argument(..., help="http(s) URL that receives a POST per new response."),
    secret: str = typer.Option(None, "--secret", help="Signing secret (at least 16 characters); generated if omitted."),
) -> None:
    """Register a webhook receiver; prints the signing secret."""
    with UnitOfWork(engine()) as session:
        endpoint = webhooks_out.add_endpoint(session, name, url, secret)
        console.print(f"webhook [bold]{endpoint.name}[/] -> {endpoint.url}; signing secret:")
        print(endpoint.secret)


@webhook_app.command("list")
def webhook_list() -> None:
    """List webhook receivers."""
    with UnitOfWork(engine(), readonly=True) as session:
        for endpoint in webhooks_out.list_endpoints(session):
            console.print(f"{endpoint.name}\t{endpoint.url}\t{'active' if endpoint.active else 'inactive'}")


@webhook_app.command("remove")
def webhook_remove(name: str = typer.Argument(..., help="Name of the receiver.")) -> None:
    """Remove a webhook receiver (queued deliveries to it are dropped)."""
    with UnitOfWork(engine()) as session:
        webhooks_out.remove_endpoint(session, name)
    console.print(f"removed webhook {name}")
