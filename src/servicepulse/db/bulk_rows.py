"""Insert many plain row tuples into one table, fast, inside the caller's transaction.

For rows that are already Python values in column order (no per-column
conversion needed): SQLite gets the DBAPI's ``executemany``, PostgreSQL gets
``COPY ... FROM STDIN`` with psycopg adapting each value (``write_row``, so an
empty string stays an empty string and None is NULL). Both skip SQLAlchemy's
per-row parameter processing, which costs more than the insert itself at
hundreds of thousands of rows. The statement comes from the table metadata,
so column names never come from input. Values must be what the driver takes:
timestamps through :func:`bind_value` first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection

from servicepulse.db import outbox


def bind_value(conn: Connection, table: Table, column: str, value):
    """`value` as the column's type sends it to this database (e.g. a UTC timestamp on SQLite)."""
    proc = table.c[column].type.bind_processor(conn.dialect)
    return proc(value) if proc is not None else value


class RowWriter:
    """Writes batches of tuples (in the order of `columns`) into `table`."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str]):
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise ValueError(f"table {table.name} has no column(s) {unknown}")
        self.conn = conn
        self.table, self.columns = table, tuple(columns)
        self.postgres = conn.dialect.name == "postgresql"
        quoted = ", ".join(f'"{c}"' for c in columns)
        self.sql = (f'COPY "{table.name}" ({quoted}) FROM STDIN' if self.postgres
                    else str(insert(table).compile(dialect=conn.dialect, column_keys=list(columns))))

    def write(self, rows: Iterable[tuple]) -> None:
        tap = outbox.KeyTap(self.conn, self.table, self.columns)  # the analytics store's outbox (off: nothing)
        rows = tap.rows(rows)
        cursor = self.conn.connection.driver_connection.cursor()
        try:
            if self.postgres:
                with cursor.copy(self.sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, rows)
        finally:
            cursor.close()
        tap.record()
