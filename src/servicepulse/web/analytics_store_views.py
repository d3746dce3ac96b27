"""The analytics store's status page (/admin/analytics-store): is a store configured, how far it is behind,
and whether it holds what the main database holds; with a button to ship the waiting changes now.

The lag comes from the outbox in the main database (as /health reads it); the row counts ask both sides
(`count()` with FINAL in the store, so each row once, tombstones gone). While entries wait, the counts may
differ by what they carry; with none waiting they must be equal, so the page marks a difference then.

"Ship now" does what the job `analytics_store.ship` does, once, in this request's unit of work: one batch of
the oldest entries (entries are removed only when the request commits; shipping again changes nothing),
recorded in the audit log (action "analytics_store.ship", actor "user:<id>", the counts).

Who sees it: administrators only. It shows the store's kind and location (never a password), counts and
times; no personal data, so customer erasure and retention do not concern the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.analytics_store import TABLES, AnalyticsStoreError, lag, parse_url
from servicepulse.analytics_store.engine import configured_store
from servicepulse.analytics_store.replication import SHIP_BATCH, ensure_schema, ship_batch, shipping
from servicepulse.analytics_store.schema import VERSION
from servicepulse.errors import ConfigurationError
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.params import MAX_ID
from servicepulse.http.templating import render
from servicepulse.org import last_audit, record_audit
from servicepulse.web.health import ANALYTICS_LAG_WARN_SECONDS

router = APIRouter(prefix="/admin/analytics-store", dependencies=[Depends(require_role("admin"))])
AUDIT_ACTION = "analytics_store.ship"


@dataclass
class TableCount:
    name: str
    main: int
    store: int | None  # None: the store does not have the table (yet), or could not be asked

    @property
    def differs(self) -> bool:
        return self.store is not None and self.store != self.main


@dataclass
class Status:
    configured: bool
    kind: str = ""  # "chdb" or "clickhouse"
    where: str = ""  # a folder, or host:port/database
    url_problem: str = ""
    pending: int = 0
    oldest_at: datetime | None = None
    lag_seconds: float = 0.0
    lagging: bool = False
    last_shipped_at: datetime | None = None
    counts: list[TableCount] = field(default_factory=list)
    store_error: str = ""
    missing_tables: int = 0

    @property
    def differences(self) -> int:
        return sum(1 for c in self.counts if c.differs)


def _where(kind: str, options: dict) -> str:
    if kind == "chdb":
        return str(options["path"])
    return f"{options['host']}:{options['port']}/{options['database']}"


def _store_counts(store) -> tuple[dict[str, int], datetime | None]:
    """Rows per replicated table as the store reads them (FINAL: one row per key, tombstones dropped), and
    when the newest rows arrived: a row's `_version` is the start of its shipment or rebuild in microseconds
    since 1970, so this sees every way in (the worker, this page, `servicepulse analytics`, the demo)."""
    present = store.table_names()
    names = [name for name in TABLES if name in present]
    if not names:
        return {}, None
    sql = " UNION ALL ".join(f"SELECT '{name}' AS t, count() AS n, max(`{VERSION}`) AS v FROM `{name}` FINAL"
                             for name in names)
    rows = store.query(sql)
    newest = max((int(v) for _, n, v in rows if n), default=0)
    return {name: int(n) for name, n, _ in rows}, (datetime.fromtimestamp(newest / 1e6, UTC) if newest else None)


def _last_shipment(session: Session, *times: datetime | None) -> datetime | None:
    """The latest of the worker's last shipment, the store's newest rows and the last shipment from this page."""
    entry = last_audit(session, AUDIT_ACTION)
    found = [_aware(t) for t in (*times, entry.at if entry is not None else None) if t is not None]
    return max(found) if found else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands aggregates back naive (UTC)


def read_status(session: Session, settings) -> Status:
    if not settings.analytics_url:
        return Status(configured=False)
    status = Status(configured=True)
    try:
        status.kind, options = parse_url(settings.analytics_url, settings.data_dir)
        status.where = _where(status.kind, options)
    except ConfigurationError as exc:
        status.url_problem = str(exc)
    now = lag(session.connection())
    status.pending, status.oldest_at = now.pending, now.oldest_at
    status.lag_seconds = now.seconds()
    status.lagging = status.lag_seconds > ANALYTICS_LAG_WARN_SECONDS
    main = {name: session.scalar(select(func.count()).select_from(r.table)) or 0 for name, r in TABLES.items()}
    theirs: dict[str, int] = {}
    newest = None
    if not status.url_problem:
        try:
            theirs, newest = _store_counts(configured_store(settings.analytics_url, settings.data_dir))
        except AnalyticsStoreError as exc:
            status.store_error = str(exc)
    status.last_shipped_at = _last_shipment(session, now.last_shipped_at, newest)
    status.counts = [TableCount(name, main[name], theirs.get(name) if not status.store_error else None)
                     for name in TABLES]
    status.missing_tables = 0 if status.store_error else sum(1 for name in TABLES if name not in theirs)
    return status


def duration_parts(seconds: float) -> tuple[int, str]:
    """(amount, unit) for a catalogue text: 42 s, 3 min, 5 h, 2 d (rounded down: 'at least')."""
    seconds = int(seconds)
    for size, unit in ((86_400, "days"), (3_600, "hours"), (60, "minutes")):
        if seconds >= size:
            return seconds // size, unit
    return seconds, "seconds"


def _page(request: Request, status: Status, *, notice: dict | None = None, error: str = "", detail: str = "",
          status_code: int = 200):
    return render(request, "analytics_store.html", {
        "status": status, "notice": notice, "error": error, "error_detail": detail,
        "lag_parts": duration_parts(status.lag_seconds), "batch": SHIP_BATCH,
        "warn_seconds": int(ANALYTICS_LAG_WARN_SECONDS)}, status_code=status_code)


@router.get("")
def status_page(request: Request, session: DbSession,
                shipped: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
                rows: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None):
    notice = {"entries": shipped, "rows": rows or 0} if shipped is not None else None
    return _page(request, read_status(session, request.app.state.settings), notice=notice)


@router.post("/ship")
def ship_now(request: Request, session: DbSession, me: CurrentUser):  # POST: read-write
    settings = request.app.state.settings
    if not settings.analytics_url:
        return _page(request, read_status(session, settings), error="off", status_code=409)
    try:
        store = configured_store(settings.analytics_url, settings.data_dir)
        ensure_schema(store)
        with shipping():  # one shipment at a time in this process (the worker's chain takes the same lock)
            done = ship_batch(session.connection(), store)
    except (AnalyticsStoreError, ConfigurationError) as exc:
        session.rollback()  # the entries stay; nothing of this request is kept
        return _page(request, read_status(session, settings), error="store", detail=str(exc), status_code=503)
    record_audit(session, f"user:{me.id}", AUDIT_ACTION, {"entries": done.entries, "rows": done.rows})
    query = urlencode({"shipped": done.entries, "rows": done.rows})
    return RedirectResponse(f"/admin/analytics-store?{query}", status_code=303)
