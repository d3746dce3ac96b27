"""The analytics store's outbox, written in the caller's transaction whenever a replicated table changes.

When SERVICEPULSE_ANALYTICS_URL is unset nothing here writes a row or runs a query (`enabled()` is
checked first). When it is set, every write to a replicated table records which unit changed (see
`UNIT_OF_TABLE`): the shipping job (servicepulse.analytics_store) then copies the unit's rows as they
are at that moment, so an entry names a key, never content, and replaying it is harmless.

Three hooks see every write path without each domain having to remember it:

* SQLAlchemy statements (Core or ORM, `Connection.execute`): an UPDATE or DELETE first selects the
  unit keys its WHERE clause matches; an INSERT takes them from its parameters, from its SELECT
  (INSERT ... FROM SELECT), from the primary keys the ORM fetched, or by looking the rows up again by a
  unique column it wrote (a response's or customer's external id).
* The bulk writers that bypass SQLAlchemy (`db/bulkio.py`, `db/bulk_rows.py`) call `record_columns`
  and `KeyTap` with the columns they write.

Statements on other tables pass through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import Table, event, insert, select, true
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.sql.dml import Delete, Insert, Update

from servicepulse.models.analytics_store import AnalyticsOutbox
from servicepulse.models.base import utcnow
from servicepulse.settings import get_settings

log = logging.getLogger(__name__)

EPOCH = date(1970, 1, 1)
LOOKUP_CHUNK = 5000
# Replicated table -> (outbox kind, the column holding the unit's key; None: the whole table ships).
UNIT_OF_TABLE: dict[str, tuple[str, str | None]] = {
    "responses": ("response", "id"),
    "answers": ("response", "response_id"),
    "verbatims": ("response", "response_id"),
    "verbatim_mentions": ("response", "response_id"),
    "cases": ("case", "id"),
    "case_events": ("case", "case_id"),
    "case_facts": ("case", "case_id"),
    "customers": ("customer", "id"),
    "score_daily_counts": ("day", "day"),
    **{name: (name, None) for name in ("journeys", "moments", "org_units", "surveys", "survey_versions",
                                       "questions")},
}
_OUTBOX = AnalyticsOutbox.__table__


def enabled() -> bool:
    return bool(get_settings().analytics_url)


def key_value(value) -> int:
    """A unit key as stored: ids as they are, days as days since 1970-01-01."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return (value - EPOCH).days
    if isinstance(value, str):  # a day SQLite returned as text
        return (date.fromisoformat(value[:10]) - EPOCH).days
    return int(value)


def key_day(key: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(key))


def record(conn: Connection, kind: str, keys: Iterable | None = None) -> int:
    """Note that `kind`'s units with these keys changed (None: the whole table); returns entries written."""
    if not enabled():
        return 0
    now = utcnow()
    if keys is None:
        rows = [{"kind": kind, "key": None, "created_at": now}]
    else:
        unique = {key_value(k) for k in keys if k is not None}
        rows = [{"kind": kind, "key": k, "created_at": now} for k in sorted(unique)]
    if rows:
        conn.execute(insert(_OUTBOX), rows)
    return len(rows)


def record_columns(conn: Connection, table: Table, columns: Mapping[str, Sequence]) -> None:
    """For a bulk write of `columns` into `table` (db/bulkio.py)."""
    unit = UNIT_OF_TABLE.get(table.name)
    if unit is None or not enabled():
        return
    kind, group = unit
    if group is None:
        record(conn, kind)
    elif group in columns:
        record(conn, kind, list(columns[group]))
    else:
        log.warning("bulk write to %s without %s: the whole unit %s is marked for shipping", table.name, group, kind)
        record(conn, kind)


class KeyTap:
    """Notes the unit keys of rows streamed to a raw cursor (db/bulk_rows.py); `record()` once the cursor
    is done, since the connection takes no other statement while a COPY runs."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]):
        self.conn = conn
        self.unit = UNIT_OF_TABLE.get(table.name) if enabled() else None
        group = self.unit[1] if self.unit else None
        self.at = list(columns).index(group) if group in columns else None
        self.keys: set = set()

    def rows(self, rows: Iterable[tuple]) -> Iterable[tuple]:
        if self.at is None:
            return rows
        return self._tapped(rows)

    def _tapped(self, rows):
        at, keys = self.at, self.keys
        for row in rows:
            keys.add(row[at])
            yield row

    def record(self) -> None:
        if self.unit is not None:
            record(self.conn, self.unit[0], self.keys if self.at is not None else None)


# --- SQLAlchemy statements -----------------------------------------------------------------------

def _replicated(statement) -> tuple[Table, str, str | None] | None:
    if not isinstance(statement, (Insert, Update, Delete)):
        return None
    table = getattr(statement, "table", None)
    unit = UNIT_OF_TABLE.get(getattr(table, "name", None))
    if unit is None or not isinstance(table, Table):
        return None
    return table, *unit


def _param_sets(multiparams, params) -> list[dict]:
    if multiparams:
        return [p for p in multiparams if isinstance(p, Mapping)]
    return [params or {}]


@event.listens_for(Engine, "before_execute")
def _before_execute(conn, statement, multiparams, params, execution_options):
    found = _replicated(statement)
    if found is None or not enabled():
        return
    table, kind, group = found
    if group is None:
        record(conn, kind)
        return
    column = table.c[group]
    if isinstance(statement, Insert):
        sub = statement.select
        if sub is not None:  # INSERT ... FROM SELECT: the keys are what the SELECT yields
            names = [c if isinstance(c, str) else c.name for c in statement._select_names]
            if group in names:
                picked = sub.subquery().columns[names.index(group)]
                keys = set()
                for p in _param_sets(multiparams, params):
                    keys.update(conn.execute(select(picked).distinct(), p).scalars())
                record(conn, kind, keys)
            else:
                record(conn, kind)
        return  # other inserts: after they ran (their keys may be generated)
    where = statement.whereclause
    keys = set()
    for p in _param_sets(multiparams, params):
        if where is None and group in p:  # ORM bulk UPDATE by primary key
            keys.add(p[group])
            continue
        keys.update(conn.execute(select(column).distinct().where(where if where is not None else true()), p)
                    .scalars())
    record(conn, kind, keys)


@event.listens_for(Engine, "after_execute")
def _after_execute(conn, statement, multiparams, params, execution_options, result):
    found = _replicated(statement)
    if found is None or not isinstance(statement, Insert) or statement.select is not None or not enabled():
        return
    table, kind, group = found
    if group is None:
        return  # recorded before it ran
    sets = _param_sets(multiparams, params)
    if sets and all(group in p for p in sets):
        record(conn, kind, [p[group] for p in sets])
        return
    if not statement._returning:
        try:
            keys = [row[0] for row in result.inserted_primary_key_rows]
        except InvalidRequestError:
            keys = [None]
        if group in table.primary_key.columns and keys and None not in keys:
            record(conn, kind, keys)
            return
    # generated ids we cannot see: look the rows up again by a unique column the insert wrote
    for unique in (c for c in table.columns if c.unique and all(c.name in p for p in sets)):
        values = [p[unique.name] for p in sets]
        keys = set()
        for start in range(0, len(values), LOOKUP_CHUNK):
            keys.update(conn.execute(select(table.c[group]).where(unique.in_(values[start:start + LOOKUP_CHUNK])))
                        .scalars())
        record(conn, kind, keys)
        return
    log.warning("insert into %s without visible %s: the whole unit %s is marked for shipping", table.name, group, kind)
    record(conn, kind)
