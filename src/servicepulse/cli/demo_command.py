"""`servicepulse demo`: a ready-to-explore installation with the demo organisation's data."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, select

from servicepulse.analytics_store import TABLES, open_store, rebuild, ship_pending
from servicepulse.cli.app import app
from servicepulse.cli.context import console, engine
from servicepulse.cli.serve_command import HOST_HELP, PORT_HELP, display_url, run_server
from servicepulse.db import migrate
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import DemoAlreadyLoaded, load_demo
from servicepulse.demo.after_load import (
    analyse_verbatims,
    build_metric_aggregate,
    prepare_closed_loop,
    prepare_expectations,
)
from servicepulse.demo.catalogue import SHOWN_LOGINS
from servicepulse.settings import get_settings


class DemoSize(StrEnum):
    tiny = "tiny"
    small = "small"
    medium = "medium"
    large = "large"


# (label, DemoSummary attribute) in the order of the counts table
COUNTS = [
    ("departments", "departments"), ("teams", "teams"), ("users", "users"),
    ("journeys", "journeys"), ("moments", "moments"), ("customers", "customers"),
    ("cases", "cases"), ("case events", "events"), ("promises", "promises"),
    ("surveys", "surveys"), ("responses", "responses"), ("answers", "answers"),
    ("improvement projects", "projects"),
]


def _counts_table(summary) -> Table:
    table = Table(title="Demo data loaded",
                  caption=f"size {summary.size}, seed {summary.seed}, {summary.first_day:%d %b %Y} – {summary.last_day:%d %b %Y}")
    table.add_column("what")
    table.add_column("rows", justify="right")
    for label, attribute in COUNTS:
        table.add_row(label, f"{getattr(summary, attribute):,}")
    return table


def _logins_table(logins) -> Table:
    table = Table(title="Demo logins")
    for column in ("role", "e-mail", "password"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.email, login.password)
    return table


def _known_logins():
    """The demo's logins when it was loaded earlier (the summary is not available then)."""

    return SHOWN_LOGINS


def _plain_mail_to_a_local_catcher() -> None:
    """Without mail settings of its own, the demo's mail goes to the default 127.0.0.1:1025, where a
    local mail catcher (which speaks no TLS) may listen: plain SMTP, set explicitly, as the settings
    never fall back to it. Mail settings of the user's own are kept as they are."""
    if "SERVICEPULSE_SMTP_HOST" not in os.environ and "SERVICEPULSE_SMTP_SECURITY" not in os.environ:
        os.environ["SERVICEPULSE_SMTP_SECURITY"] = "none"
        get_settings.cache_clear()


def _fill_analytics_store(eng, progress: Progress, *, loaded: bool) -> str | None:
    """With SERVICEPULSE_ANALYTICS_URL set: rebuild the analytics store from the demo's data (one progress line),
    then ship what the load recorded in the outbox, so the store starts level with the main database rather
    than behind until the worker's chain starts. A kept demo is rebuilt only when its store is still empty."""
    settings = get_settings()
    if not settings.analytics_url:
        return None
    store = open_store(settings.analytics_url, settings.data_dir)
    try:
        if not loaded and "responses" in store.table_names() and store.scalar("SELECT count() FROM responses"):
            shipped = ship_pending(eng, store)
            return f"analytics store kept; {shipped.entries:,} waiting changes shipped"
        with UnitOfWork(eng, readonly=True) as session:
            total = sum(session.scalar(select(func.count()).select_from(r.table)) or 0 for r in TABLES.values())
        task = progress.add_task("analytics store", total=max(total, 1))
        done: dict[str, int] = {}

        def step(name: str, rows: int, _total: int) -> None:
            done[name] = rows
            progress.update(task, completed=sum(done.values()), description=f"analytics store: {name}"[:28])

        counts = rebuild(eng, store, progress=step)
        progress.update(task, completed=max(total, 1), description="analytics store")
        shipped = ship_pending(eng, store)
    finally:
        store.close()
    return (f"analytics store rebuilt: {sum(counts.values()):,} rows in {len(counts)} tables "
            f"({shipped.entries:,} changes recorded while loading shipped)")


@app.command("demo")
def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Only load the data; do not start the web server."),
    seed: int = typer.Option(2026, "--seed", help="Random seed: the same seed gives the same data."),
    size: DemoSize = typer.Option(DemoSize.small, "--size", case_sensitive=False,
                             help="How much data: tiny (~1,200 cases), small (~6,000), medium (~60,000), large (~600,000)."),
    reset: bool = typer.Option(False, "--reset", help="Delete ALL data in the database first and load the demo again."),
    end_date: datetime = typer.Option(None, "--end-date", formats=["%Y-%m-%d"], show_default="yesterday",
                                      help="The year of data ends on the last day on or before this date with the "
                                           "demo calendar's weekday (it moves by whole weeks). The same seed and "
                                           "end date give the same data."),
    host: str = typer.Option("127.0.0.1", "--host", help=HOST_HELP),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help=PORT_HELP),
) -> None:
    """Try servicepulse with a year of made-up data from a fibre-internet provider.

    Creates or upgrades the database (the embedded SQLite file in
    ./servicepulse-data, or SERVICEPULSE_DATABASE_URL), fills it with the demo
    organisation, shows what was loaded, and starts the dashboard with the
    address and demo logins to use. Running it again keeps the data and just
    starts the server; --reset rebuilds it.
    """

    started = time.perf_counter()
    eng = engine(check=False)
    migrate.upgrade(eng)
    logins = None
    progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=False)
    try:
        with progress:
            summary = load_demo(eng, size=size.value, seed=seed, reset=reset, progress=progress,
                                end_date=end_date.date() if end_date else date.today() - timedelta(days=1))
            analysed = analyse_verbatims(eng, progress)
            build_metric_aggregate(eng, progress)
            now = datetime.now(UTC)
            loop = prepare_closed_loop(eng, now, progress)
            prepared = prepare_expectations(eng, get_settings().data_dir, now, progress)
            store_line = _fill_analytics_store(eng, progress, loaded=True)
    except DemoAlreadyLoaded:
        console.print("The demo data are already in this database; keeping them (use --reset to load them again).")
        logins = _known_logins()
        with Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as again:
            store_line = _fill_analytics_store(eng, again, loaded=False)
    else:
        console.print(_counts_table(summary))
        console.print(f"{analysed:,} open answers analysed, {loop['followups']:,} follow-ups opened, "
                      f"{prepared['forecasts']:,} open cases forecast, {prepared['signals']:,} signals raised")
        console.print(f"loaded in {time.perf_counter() - started:.1f} s")
        logins = summary.logins
    if store_line:
        console.print(store_line)
    if no_serve:
        console.print(_logins_table(logins))
        console.print("Start the dashboard with `servicepulse serve`.")
        return
    first = logins[0]
    _plain_mail_to_a_local_catcher()
    run_server(eng, host, port, banner=[
        f"log in at {display_url(host, port)}login as {first.email} with password {first.password}",
        _logins_table(logins),
    ])
