"""Fast column-wise writes for the event importer, on SQLite and PostgreSQL.

Values are converted per column with NumPy (not row by row through the type
processors, which costs more than the insert itself at a million rows) into
what the columns store: on SQLite naive-UTC text timestamps as `UTCDateTime`
writes them, on PostgreSQL ``COPY`` text format. The COPY text is built column
by column (escaping only columns that hold a special character) and joined
per row, several times faster than ``DataFrame.to_csv``; a writer thread sends
each chunk while the next one is built, so Python and the server work at the
same time. Statements are compiled from the table metadata so column names
never come from input.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import BigInteger, Boolean, Column, MetaData, String, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from servicepulse.db import outbox
from servicepulse.models.base import UTCDateTime

SQLITE_CHUNK = 50_000
PG_CHUNK = 50_000  # rows per COPY message: small enough to overlap building and sending
COPY_NULL = "\\N"
COPY_SPECIAL = ("\\", "\t", "\n", "\r")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def ts_text(values: pd.Series | np.ndarray, dialect: str) -> np.ndarray:
    """Timestamps (tz-aware UTC) as the text each database parses/stores, None for NaT."""
    arr = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]")
    text = np.datetime_as_string(arr, unit="us").astype("U26")
    # 'YYYY-MM-DDTHH:MM:SS.ffffff' -> space separator, by editing the UCS-4 code units in place
    text.view(np.uint32).reshape(-1, 26)[:, 10] = ord(" ")
    out = text.astype(object)
    if dialect == "postgresql":
        out = out + "+00"
    out[np.isnat(arr)] = None
    return out


def plain(values) -> np.ndarray:
    """An object array with None for every missing value."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    arr = s.to_numpy(dtype=object, na_value=None)
    return arr


def temp_table(conn: Connection, columns: Sequence[Column]) -> Table:
    """A temporary staging table for this transaction (dropped on commit on PostgreSQL)."""
    name = f"stage_{uuid.uuid4().hex[:12]}"
    table = Table(name, MetaData(), *columns, prefixes=["TEMPORARY"], postgresql_on_commit="DROP")
    table.create(conn)
    return table


def drop_temp(conn: Connection, table: Table) -> None:
    if conn.dialect.name != "postgresql":
        table.drop(conn)


def write_rows(conn: Connection, table: Table, columns: Mapping[str, np.ndarray], *,
               ignore_conflicts_on: str | None = None, progress=None) -> int:
    """Insert pre-converted columns (object arrays); returns rows written.

    PostgreSQL: ``COPY`` (no conflict handling; stage first when needed).
    SQLite: executemany, with ``ON CONFLICT (col) DO NOTHING`` if asked.
    """
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if n == 0:
        return 0
    outbox.record_columns(conn, table, columns)  # the analytics store's outbox (nothing when it is off)
    dialect = conn.dialect.name
    cursor = conn.connection.driver_connection.cursor()
    written = 0
    try:
        if dialect == "postgresql":
            if ignore_conflicts_on:
                raise ValueError("COPY cannot skip conflicts; stage into a temporary table first")
            cols = ", ".join(f'"{c}"' for c in names)
            with cursor.copy(f'COPY "{table.name}" ({cols}) FROM STDIN', writer=QueuedLibpqWriter(cursor)) as copy:
                for start in range(0, n, PG_CHUNK):
                    stop = min(start + PG_CHUNK, n)
                    copy.write(copy_text([columns[c][start:stop] for c in names]))
                    written = stop
                    if progress:
                        progress(stop)
        else:
            stmt = insert(table)
            if ignore_conflicts_on:
                stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=[ignore_conflicts_on])
            compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
            bound = compiled.positiontup  # the statement's own column order, not the caller's
            left_out = [c for c in bound if c not in columns]
            if left_out:  # a column with a Python-side default: the raw cursor would not fill it in
                raise ValueError(f"{table.name}: give a value for {', '.join(left_out)}")
            for start in range(0, n, SQLITE_CHUNK):
                stop = min(start + SQLITE_CHUNK, n)
                cursor.executemany(str(compiled), zip(*(columns[c][start:stop].tolist() for c in bound)))
                written += max(cursor.rowcount, 0)
                if progress:
                    progress(stop)
    finally:
        cursor.close()
    return written


def copy_text(columns: Sequence[np.ndarray]) -> str:
    """Rows in PostgreSQL ``COPY`` text format from equally long object columns
    (None = NULL; str, int, float and bool values)."""
    if not len(columns) or not len(columns[0]):
        return ""
    fields = [_copy_field(c) for c in columns]
    return "\n".join(map("\t".join, zip(*fields))) + "\n"


def _copy_field(values: np.ndarray) -> list[str]:
    """One column as COPY text fields: str() of each value (PostgreSQL reads
    True/False, ints and floats as written), escaped where needed, NULL marked."""
    missing = pd.isna(values)
    if missing.all():
        return [COPY_NULL] * len(values)
    text = list(map(str, values))
    joined = "".join(text)  # one scan of the whole column instead of one per value
    if any(ch in joined for ch in COPY_SPECIAL):
        text = [v.translate(COPY_ESCAPES) for v in text]
    if missing.any():
        marked = np.array(text, dtype=object)
        marked[missing] = COPY_NULL
        text = marked.tolist()
    return text


def booleans(values, dialect: str) -> np.ndarray:
    arr = np.asarray(pd.Series(values).astype("boolean").fillna(False), dtype=bool)
    return arr.astype(np.int64).astype(object) if dialect == "sqlite" else arr.astype(object)


def ints(values) -> np.ndarray:
    s = pd.Series(values)
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        return s.to_numpy().astype(object)
    return pd.array(s, dtype="Int64").to_numpy(dtype=object, na_value=None)


def floats(values) -> np.ndarray:
    return np.asarray(values, dtype=float).astype(object)


def id_column(name: str, primary_key: bool = False) -> Column:
    return Column(name, BigInteger().with_variant(postgresql.BIGINT(), "postgresql"), primary_key=primary_key,
                  autoincrement=False)


def text_column(name: str, length: int = 200) -> Column:
    return Column(name, String(length))


def ts_column(name: str) -> Column:
    return Column(name, UTCDateTime())


def bool_column(name: str) -> Column:
    return Column(name, Boolean())
