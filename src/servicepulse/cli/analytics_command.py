"""`servicepulse analytics ...`: the optional ClickHouse analytics store (docs/scale.md).

`rebuild` refills it from the main database, `ship` sends the outbox now (what the worker does every few
seconds), `status` shows how far it is behind, `ddl` prints its tables (with --cluster for a sharded,
replicated cluster)."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from servicepulse.analytics_store import (
    AnalyticsStoreError,
    ddl,
    lag,
    newest_rows_at,
    open_store,
    parse_url,
    rebuild,
    ship_pending,
)
from servicepulse.cli.app import analytics_app
from servicepulse.cli.context import console, engine
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ConfigurationError
from servicepulse.settings import get_settings


def _store():
    settings = get_settings()
    if not settings.analytics_url:
        raise ConfigurationError("no analytics store is configured: set SERVICEPULSE_ANALYTICS_URL "
                                 "(e.g. chdb:///var/lib/servicepulse/analytics)")
    return open_store(settings.analytics_url, settings.data_dir)


@analytics_app.command("rebuild")
def rebuild_command() -> None:
    """Refill the analytics store from the main database (in batches; safe to run again at any time)."""
    store = _store()
    eng = engine()
    with Progress(TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        tasks: dict[str, int] = {}

        def step(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=max(total, 1))
            progress.update(tasks[name], completed=done if total else 1)

        counts = rebuild(eng, store, progress=step)
    store.close()
    console.print(f"rebuilt {len(counts)} tables, {sum(counts.values()):,} rows")


@analytics_app.command("ship")
def ship_command() -> None:
    """Send what waits in the outbox to the analytics store now."""
    store = _store()
    eng = engine()
    done = ship_pending(eng, store)
    store.close()
    console.print(f"shipped {done.entries:,} outbox entries ({done.rows:,} rows)")


@analytics_app.command("status")
def status_command() -> None:
    """How far the analytics store is behind the main database."""
    settings = get_settings()
    if not settings.analytics_url:
        console.print("analytics store: off (SERVICEPULSE_ANALYTICS_URL is not set)")
        return
    parse_url(settings.analytics_url, settings.data_dir)  # a bad URL is told before anything else
    with UnitOfWork(engine(), readonly=True) as session:
        now = lag(session.connection())
    console.print(f"analytics store: {settings.analytics_url.split('@')[-1]}")
    console.print(f"entries waiting: {now.pending:,}")
    console.print(f"oldest waiting: {now.seconds():.1f} s" if now.oldest_at else "oldest waiting: -")
    # the store's newest rows also count (a rebuild, the demo, the admin page's "ship now"), as on
    # /admin/analytics-store; a store that does not answer leaves the worker's last shipment
    try:
        with open_store(settings.analytics_url, settings.data_dir) as store:
            arrived = newest_rows_at(store)
    except AnalyticsStoreError as exc:
        console.print(f"store: not answering ({exc})")
        arrived = None
    last = max((t for t in (now.last_shipped_at, arrived) if t is not None), default=None)
    console.print(f"last shipment: {last.isoformat() if last else 'never'}")


@analytics_app.command("ddl")
def ddl_command(cluster: str = typer.Option("", "--cluster", help="Print the DDL for this ClickHouse cluster: "
                                            "replicated tables on every node and Distributed tables over them.")
                ) -> None:
    """Print the analytics store's CREATE TABLE statements."""
    if cluster and not cluster.replace("_", "").replace("-", "").isalnum():
        raise ConfigurationError(f"--cluster {cluster!r}: a cluster name has letters, digits, '_' and '-' only")
    typer.echo(ddl(cluster or None), nl=False)
