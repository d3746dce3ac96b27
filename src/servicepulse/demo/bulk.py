"""Fast bulk writes of column frames into the ORM tables, on SQLite and PostgreSQL.

The statement comes from the table's SQLAlchemy metadata (``insert(table)``
compiled for the connection's dialect); the values are converted once, per
column and vectorised, to what the column type stores, instead of row by row
through the type processors (which costs more than the insert itself at
hundreds of thousands of rows):

- SQLite: timestamps as the naive-UTC text that `UTCDateTime` stores, JSON as
  text, booleans as 0/1;
- PostgreSQL: timestamps with their UTC offset;

then written by `servicepulse.db.bulkio.write_rows` (``executemany`` bound in
the statement's column order on SQLite, ``COPY`` text format on PostgreSQL,
where an empty string stays an empty string and None is NULL).

Columns are given as a mapping of column name to a sequence (numpy array,
pandas Series or list) of equal length; missing values are None/NaN/NaT.
Timestamps must be timezone-aware (or NaT).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Table, func, select, text
from sqlalchemy.engine import Connection

from servicepulse.db import bulkio
from servicepulse.models.base import UTCDateTime

CHUNK = 20_000


def _is_json(col) -> bool:
    return col.type.__class__.__name__ in ("JSON", "JSONB") or getattr(col.type, "impl", None).__class__.__name__ == "JSON"


def _python_type(col):
    try:
        return col.type.python_type
    except NotImplementedError:
        return None


def _timestamps(values, dialect: str) -> list:
    ts = pd.to_datetime(pd.Series(values), utc=True)
    if dialect == "sqlite":
        out = ts.dt.tz_localize(None).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
    else:
        out = ts.dt.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    return out.astype(object).where(ts.notna(), None).tolist()


def _plain(values) -> list:
    s = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values.astype(object)
    return s.where(pd.notna(s), None).tolist()


def _convert(table: Table, columns: Mapping[str, Sequence], dialect: str) -> dict[str, list]:
    out = {}
    for name, values in columns.items():
        col = table.c[name]
        if isinstance(col.type, UTCDateTime):
            out[name] = _timestamps(values, dialect)
        elif _is_json(col):
            out[name] = [None if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                         for v in values]
        elif isinstance(col.type, Boolean):
            arr = np.asarray(values, dtype=bool)
            out[name] = arr.astype(int).tolist() if dialect == "sqlite" else arr.tolist()
        elif _python_type(col) is int:
            ints = pd.array(pd.Series(values).to_numpy(), dtype="Int64") if not isinstance(values, np.ndarray) \
                or values.dtype.kind not in "iu" else values
            out[name] = ints.tolist() if isinstance(ints, np.ndarray) else _plain(pd.Series(ints, dtype=object))
        else:
            out[name] = _plain(values)
    return out


def _slice(values, start: int, stop: int):
    if isinstance(values, (pd.Series, pd.Index)):
        return values[start:stop] if isinstance(values, pd.Index) else values.iloc[start:stop]
    return values[start:stop]


def write(conn: Connection, table: Table, columns: Mapping[str, Sequence],
          progress: Callable[[int], None] | None = None) -> int:
    """Insert the rows described by ``columns``; returns the number of rows.
    Values are converted chunk by chunk, so memory stays bounded at any size."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if names else 0
    if n == 0:
        return 0
    dialect = conn.dialect.name
    step = CHUNK if dialect == "sqlite" else CHUNK * 5
    for start in range(0, n, step):
        stop = min(start + step, n)
        values = _convert(table, {c: _slice(columns[c], start, stop) for c in names}, dialect)
        bulkio.write_rows(conn, table, {c: np.array(values[c], dtype=object) for c in names})
        if progress:
            progress(stop)
    return n


def next_id(conn: Connection, table: Table) -> int:
    """The first free primary key (explicit ids let the loader link rows without a round trip)."""
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


def fix_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """After explicit ids on PostgreSQL, move each id sequence past the largest id."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)"
        ))
