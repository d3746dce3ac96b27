"""`servicepulse verbatims ...`: analyse comments in a batch, export/import the code frame."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.verbatims.analysis import analyse_responses, train_sentiment_model
from servicepulse.verbatims.codeframes import (
    current_codeframe,
    parse_codeframe,
    save_codeframe,
)
from servicepulse.verbatims.jobs import enqueue_analysis

verbatims_app = typer.Typer(help="Open answers: themes, sentiment, the code frame.", no_args_is_help=True)
app.add_typer(verbatims_app, name="verbatims")


@verbatims_app.command("analyse")
def analyse(
    all_: bool = typer.Option(False, "--all", help="Re-analyse every comment (e.g. after editing the code frame)."),
    workers: int = typer.Option(0, help="Processes for the text analysis (0 = every core)."),
    train: bool = typer.Option(False, help="Score sentiment with a model trained on your own scored comments."),
):
    """Redact, detect the language, find themes and score sentiment of the comments; store the results."""

    eng = engine()
    started = time.perf_counter()
    model = None
    if train:
        with UnitOfWork(eng) as session:
            model = train_sentiment_model(session)
        if model is None:
            console.print("too few analysed comments with an NPS to train on (at least 200); using the lexicon")
    progress = Progress(TextColumn("comments"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task("analyse", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with UnitOfWork(eng) as session:
            summary = analyse_responses(session, only_missing=not all_, model=model, workers=workers, progress=report)
    console.print(f"{summary.analysed:,} comments analysed, {summary.mentions:,} theme mentions, "
                  f"{summary.skipped_empty:,} empty comments skipped in {time.perf_counter() - started:.1f} s")


codeframe_app = typer.Typer(help="The code frame (themes and their words) as a YAML file.", no_args_is_help=True)
verbatims_app.add_typer(codeframe_app, name="codeframe")


@codeframe_app.command("export")
def export_codeframe(path: Path = typer.Argument(..., help="YAML file to write.")):
    """Write the code frame in use to a YAML file."""

    with UnitOfWork(engine()) as session:
        cf, _ = current_codeframe(session)
    path.write_text(cf.to_yaml(), encoding="utf-8")
    console.print(f"code frame with {len(cf.themes)} themes written to {path}")


@codeframe_app.command("import")
def import_codeframe(path: Path = typer.Argument(..., help="YAML file to read.")):
    """Check a YAML code frame and make it the one in use (comments are re-analysed by the worker)."""

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"can not read {path}: {exc}", [("path", str(exc))]) from None
    try:
        cf = parse_codeframe(text, source=str(path))
    except RecursionError:  # '[' * 100000: deeper than the YAML parser goes
        raise ValidationFailed(f"{path}: the code frame is nested too deeply to read",
                               [("path", "nested too deeply")]) from None
    with UnitOfWork(engine()) as session:
        version = save_codeframe(session, cf, note=f"imported from {path.name}")
        enqueue_analysis(session, reanalyse=True)
    console.print(f"code frame version {version} with {len(cf.themes)} themes in use; re-analysis queued")
