"""Copying the replicated tables to the analytics store: shipping the outbox, rebuilding, the lag.

Shipping a unit reads its rows from the main database as they are now and inserts them with a new
`_version`; rows of the unit that the store still holds at an older version are gone from the main
database (erased, expired, replaced), so they get a tombstone (`_deleted` = 1) at the new version.
The same two steps rebuild a whole table. Both are idempotent: running them again inserts the same
content at a newer version, and ReplacingMergeTree keeps one row per key.

Versions are microseconds since 1970 when the shipment starts; shipments run one at a time (the
job chain, and a lock per process), so a later shipment always wins.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection, Engine

from servicepulse.analytics_store.engine import AnalyticsStore
from servicepulse.analytics_store.schema import (
    DELETED,
    TABLES,
    UNITS,
    VERSION,
    Replicated,
    arrow_schema,
    create_schema,
)
from servicepulse.db.outbox import key_day
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AnalyticsOutbox, Job
from servicepulse.models.base import utcnow

SHIP_BATCH = 20_000  # outbox entries per shipment
READ_CHUNK = 5_000  # keys per IN list (under SQLite's bound-parameter limit)
REBUILD_BATCH = 50_000
_SHIPPING = threading.Lock()
_last_version = 0


def shipping() -> threading.Lock:
    """Held while this process ships or rebuilds (a later shipment must not overtake an earlier one)."""
    return _SHIPPING


def new_version() -> int:
    """A version above every one this process handed out (microseconds since 1970)."""
    global _last_version
    _last_version = max(time.time_ns() // 1000, _last_version + 1)
    return _last_version


def _json_text(value):
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def to_arrow(r: Replicated, rows: list, version: int) -> pa.Table:
    """Rows (in `r.columns` order, as SQLAlchemy returns them) as the Arrow table the store takes."""
    schema = arrow_schema(r)
    columns = list(zip(*rows)) if rows else [() for _ in r.columns]
    arrays = []
    for name, values, field in zip(r.columns, columns, schema):
        if field.type == pa.string() and r.table.c[name].type.__class__.__name__ in ("JSON", "JSONB"):
            values = [_json_text(v) for v in values]
        elif pa.types.is_date32(field.type):
            values = [v.date() if isinstance(v, datetime) else v for v in values]
        arrays.append(pa.array(values, type=field.type))
    n = len(rows)
    arrays.append(pa.array([version] * n, type=pa.uint64()))
    arrays.append(pa.array([0] * n, type=pa.uint8()))
    return pa.Table.from_arrays(arrays, schema=schema)


def _select(r: Replicated):
    return select(*(r.table.c[c] for c in r.columns))


def _tombstone(store: AnalyticsStore, r: Replicated, version: int, keys: list | None) -> None:
    """Mark the rows of these units that this shipment did not bring (older version) as deleted."""
    cols = ", ".join(f"`{c}`" for c in r.columns)
    where = "`_version` < {v:UInt64}"
    params: dict = {"v": version}
    if keys is not None:
        where += f" AND `{r.group}` IN {{keys:Array({'Date32' if r.group == 'day' else 'Int64'})}}"
        params["keys"] = keys
    store.command(f"INSERT INTO `{r.name}` ({cols}, `{VERSION}`, `{DELETED}`) "
                  f"SELECT {cols}, {{v:UInt64}}, 1 FROM `{r.name}` FINAL WHERE {where}", params)


def ship_units(conn: Connection, store: AnalyticsStore, kind: str, keys: list | None, version: int) -> int:
    """Make the store's rows of these units (None: all of them) equal the main database's; returns rows sent."""
    sent = 0
    for name in UNITS[kind]:
        r = TABLES[name]
        if keys is None or r.group is None:
            sent += _ship_table(conn, store, r, version)
            continue
        column = r.table.c[r.group]
        group_keys = [key_day(k) for k in keys] if r.group == "day" else keys
        for start in range(0, len(group_keys), READ_CHUNK):
            chunk = group_keys[start:start + READ_CHUNK]
            rows = conn.execute(_select(r).where(column.in_(chunk))).all()
            sent += store.insert_arrow(r.name, to_arrow(r, rows, version))
            _tombstone(store, r, version, chunk)
    return sent


def _ship_table(conn: Connection, store: AnalyticsStore, r: Replicated, version: int,
                progress: Callable[[int], None] | None = None) -> int:
    """The whole table, in primary-key order and batches, then tombstones for what is gone."""
    key = r.table.c[r.key]
    last = None
    sent = 0
    while True:
        stmt = _select(r).order_by(key).limit(REBUILD_BATCH)
        if last is not None:
            stmt = stmt.where(key > last)
        rows = conn.execute(stmt).all()
        if not rows:
            break
        sent += store.insert_arrow(r.name, to_arrow(r, rows, version))
        last = rows[-1][r.columns.index(r.key)]
        if progress:
            progress(len(rows))
    _tombstone(store, r, version, None)
    return sent


_READY: set[int] = set()


def ensure_schema(store: AnalyticsStore) -> None:
    """Create the store's tables once per store object (CREATE ... IF NOT EXISTS)."""
    if id(store) not in _READY:
        create_schema(store)
        _READY.add(id(store))


@dataclass
class Shipment:
    entries: int = 0
    rows: int = 0


def ship_pending(engine: Engine, store: AnalyticsStore, *, limit: int = SHIP_BATCH, batches: int | None = None
                 ) -> Shipment:
    """Ship outbox entries in batches (one unit of work each) until none are left (or `batches` ran)."""
    done = Shipment()
    ensure_schema(store)
    with _SHIPPING:
        while batches is None or batches > 0:
            with UnitOfWork(engine) as session:
                shipped = ship_batch(session.connection(), store, limit)
            done.entries += shipped.entries
            done.rows += shipped.rows
            if shipped.entries < limit:
                break
            batches = None if batches is None else batches - 1
    return done


def ship_batch(conn: Connection, store: AnalyticsStore, limit: int = SHIP_BATCH) -> Shipment:
    """One batch in the caller's transaction: ship the oldest entries' units, then remove those entries.

    The store is written before the entries go: if the transaction then fails, the entries stay and the
    next shipment sends the same units again, which changes nothing."""
    o = AnalyticsOutbox.__table__
    stmt = select(o.c.id, o.c.kind, o.c.key).order_by(o.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    entries = conn.execute(stmt).all()
    if not entries:
        return Shipment()
    version = new_version()
    wanted: dict[str, set | None] = {}
    for _, kind, key in entries:
        if kind not in UNITS:
            continue  # a kind this version does not know: dropped with the batch
        if key is None or wanted.get(kind, set()) is None:
            wanted[kind] = None
        else:
            wanted.setdefault(kind, set()).add(key)
    rows = 0
    for kind, keys in wanted.items():
        rows += ship_units(conn, store, kind, None if keys is None else sorted(keys), version)
    ids = [e[0] for e in entries]
    for start in range(0, len(ids), READ_CHUNK):
        conn.execute(delete(o).where(o.c.id.in_(ids[start:start + READ_CHUNK])))
    return Shipment(len(entries), rows)


def rebuild(engine: Engine, store: AnalyticsStore, *, tables: Iterable[str] | None = None,
            progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Refill the store from the main database (creating missing tables); returns rows per table.

    Runs in one read-only unit of work per table, while the application goes on: what changes meanwhile
    is in the outbox and ships after, at a newer version. `progress(table, done, total)`."""
    create_schema(store)
    counts = {}
    with _SHIPPING:
        version = new_version()
        for name in tables or TABLES:
            r = TABLES[name]
            with UnitOfWork(engine, readonly=True) as session:
                conn = session.connection()
                total = conn.execute(select(func.count()).select_from(r.table)).scalar_one()
                done = 0

                def step(n, name=name, total=total):
                    nonlocal done
                    done += n
                    if progress:
                        progress(name, done, total)

                if progress:
                    progress(name, 0, total)
                counts[name] = _ship_table(conn, store, r, version, step)
    return counts


@dataclass
class Lag:
    pending: int
    oldest_at: datetime | None
    last_shipped_at: datetime | None

    def seconds(self, now: datetime | None = None) -> float:
        if self.oldest_at is None:
            return 0.0
        return max(((now or utcnow()) - self.oldest_at).total_seconds(), 0.0)


def lag(conn: Connection) -> Lag:
    """How far the store is behind: entries waiting, the oldest one's time, the last shipment."""
    o = AnalyticsOutbox.__table__
    pending, oldest = conn.execute(select(func.count(), func.min(o.c.created_at))).one()
    shipped = conn.execute(select(func.max(Job.finished_at)).where(Job.kind == SHIP_JOB, Job.status == "done")
                           ).scalar()
    return Lag(int(pending), oldest, shipped)


def newest_rows_at(store: AnalyticsStore) -> datetime | None:
    """When the store's newest rows arrived: a row's `_version` is the start of its shipment or rebuild in
    microseconds since 1970, so this sees every way in (the worker, the admin page, the command line, the demo),
    where the worker's finished jobs see only the worker's."""
    present = store.table_names()
    names = [name for name in TABLES if name in present]
    if not names:
        return None
    rows = store.query(" UNION ALL ".join(f"SELECT max(`{VERSION}`) FROM `{name}`" for name in names))
    newest = max((int(v) for (v,) in rows if v), default=0)
    return datetime.fromtimestamp(newest / 1e6, UTC) if newest else None


SHIP_JOB = "analytics_store.ship"
