"""The read layer's engine switch: one SQLAlchemy Core statement, run on the main database or on ClickHouse.

The analytics queries (metrics, journeys, verbatims) are written once in SQLAlchemy Core; the few pieces
that differ per engine ask ``Reader.dialect`` ('sqlite', 'postgresql' or 'clickhouse'). A ``Reader`` runs a
statement and gives plain rows (tuples of Python values: ints, floats, strings, timezone-aware UTC
datetimes, dates, None), so the code after a query is the same on every engine.

ClickHouse gets the statement compiled by a small dialect of our own with every value rendered as a literal:
ClickHouse string literals give backslashes a meaning, so strings are escaped here (backslash and quote),
never formatted in by hand, and a datetime becomes ``toDateTime64('…', 6, 'UTC')``. Every query runs with
``final = 1`` (ReplacingMergeTree rows are deduplicated at read, as the main database's rows are unique) and
``join_use_nulls = 1`` (an outer join's missing side is NULL, as in SQL, not the type's default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, cast, extract, func, literal, or_, true
from sqlalchemy.engine import default
from sqlalchemy.orm import Session
from sqlalchemy.sql import compiler
from sqlalchemy.sql.elements import ColumnElement

CLICKHOUSE = "clickhouse"
DUCKDB = "duckdb"  # the benchmark's third engine (bench/analytics_engines.py): PostgreSQL's SQL, its own functions
QUERY_SETTINGS = "SETTINGS final = 1, join_use_nulls = 1"


def _string_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _ClickHouseCompiler(compiler.SQLCompiler):
    def render_literal_value(self, value, type_):
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"cannot send {value!r} to ClickHouse")
            return repr(value)
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: the read layer takes timezone-aware timestamps only")
            text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            return f"toDateTime64('{text}', 6, 'UTC')"
        if isinstance(value, date):
            return f"toDate('{value.isoformat()}')"
        if isinstance(value, str):
            return _string_literal(value)
        raise TypeError(f"no ClickHouse literal for {type(value).__name__}")

    def visit_true(self, expr, **kw):
        return "true"

    def visit_false(self, expr, **kw):
        return "false"

    def visit_is_true_unary_operator(self, element, operator, **kw):
        return f"{self.process(element.element, **kw)} = true"

    def visit_is_false_unary_operator(self, element, operator, **kw):
        return f"{self.process(element.element, **kw)} = false"


class _ClickHouseTypes(compiler.GenericTypeCompiler):
    """Casts in ClickHouse's names (its FLOAT would be Float32)."""

    def visit_FLOAT(self, type_, **kw):
        return "Float64"

    visit_float = visit_REAL = visit_DOUBLE = visit_DOUBLE_PRECISION = visit_double = visit_FLOAT

    def visit_INTEGER(self, type_, **kw):
        return "Int64"

    visit_integer = visit_BIGINT = visit_big_integer = visit_SMALLINT = visit_small_integer = visit_INTEGER

    def visit_VARCHAR(self, type_, **kw):
        return "String"

    visit_string = visit_TEXT = visit_text = visit_unicode = visit_VARCHAR


class _ClickHouseDialect(default.DefaultDialect):
    name = CLICKHOUSE
    statement_compiler = _ClickHouseCompiler
    type_compiler_cls = _ClickHouseTypes
    supports_native_boolean = True
    div_is_floordiv = False


_DIALECT = _ClickHouseDialect()


def clickhouse_sql(stmt) -> str:
    """The statement as one ClickHouse SQL string, every value a (safely escaped) literal."""
    return str(stmt.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True, "render_postcompile": True}))


def is_true(expr: ColumnElement) -> ColumnElement:
    """``expr = true``, spelled the same on every engine (``IS`` differs: SQLite's ``IS 1``)."""
    return expr == true()


class Reader:
    """Runs Core statements on one engine and returns plain rows."""

    dialect: str

    def rows(self, stmt) -> list[tuple]:
        raise NotImplementedError

    def scalar(self, stmt) -> Any:
        rows = self.rows(stmt)
        return rows[0][0] if rows else None

    def scalars(self, stmt) -> list:
        return [r[0] for r in self.rows(stmt)]


class SessionReader(Reader):
    """The main database, through the unit of work's session (SQLite or PostgreSQL)."""

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def rows(self, stmt) -> list[tuple]:
        return [tuple(r) for r in self.session.execute(stmt)]


def _plain(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


class ClickHouseReader(Reader):
    """ClickHouse (chDB in-process or a server): ``run(sql)`` takes a SQL string and returns a pyarrow Table
    or a list of row tuples; the store decides how (see servicepulse.analytics_store)."""

    dialect = CLICKHOUSE

    def __init__(self, run: Callable[[str], Any]):
        self.run = run

    def sql(self, stmt) -> str:
        return f"{clickhouse_sql(stmt)} {QUERY_SETTINGS}"

    def rows(self, stmt) -> list[tuple]:
        result = self.run(self.sql(stmt))
        if hasattr(result, "columns") and hasattr(result, "num_rows"):  # a pyarrow Table: by position, names may repeat
            columns = [c.to_pylist() for c in result.columns]
            return [tuple(_plain(v) for v in row) for row in zip(*columns)] if columns else []
        return [tuple(_plain(v) for v in row) for row in result]


# Where a unit of work's session keeps the analytics store's reader (set by whoever opens the unit of work
# when SERVICEPULSE_ANALYTICS_URL is set); raw-row queries read there instead of from the main database.
SESSION_KEY = "analytics_reader"


def reader_of(source: Session | Reader) -> Reader:
    """The main database's reader for a query function's first argument (a ``Reader`` as given)."""
    return source if isinstance(source, Reader) else SessionReader(source)


def raw_reader(source: Session | Reader) -> Reader:
    """The reader for raw-row queries (drill-downs, comment search, process statistics): the analytics store
    when the session carries one (``SESSION_KEY``), else the main database."""
    if isinstance(source, Reader):
        return source
    return source.info.get(SESSION_KEY) or SessionReader(source)


def use_store(session: Session, run: Callable[[str], Any]) -> None:
    """Let the raw-row queries of this session's unit of work read from the analytics store (``run``: SQL ->
    rows or Arrow table, e.g. ``AnalyticsStore.query_arrow``)."""
    session.info[SESSION_KEY] = ClickHouseReader(run)


def day_start(d: date) -> datetime:
    """The start of a UTC day (for the domains before ``responses``, which defines the same)."""
    return datetime.combine(d, time(0), tzinfo=UTC)


def epoch_micros(expr: ColumnElement, dialect: str) -> ColumnElement:
    """Microseconds since 1970 of a timestamp column, as an exact integer on every engine (so that times
    between events, their sums and medians agree to the microsecond)."""
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC)
        return (cast(func.strftime("%s", expr), Integer) * 1_000_000
                + cast(func.coalesce(func.substr(expr, 21, 6), "0"), Integer))
    if dialect == CLICKHOUSE:
        return func.toUnixTimestamp64Micro(expr)
    if dialect == DUCKDB:
        return func.epoch_us(expr)
    return cast(extract("epoch", expr) * 1_000_000, BigInteger)


def contains_text(expr: ColumnElement, term: str, dialect: str) -> ColumnElement:
    """``expr`` contains ``term`` ignoring the case of A-Z (the same on every engine: SQLite's and
    ClickHouse's lower() fold only ASCII letters, so PostgreSQL folds only those too). No wildcards."""
    folded = term.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))
    needle = literal(folded)
    if dialect == "sqlite":
        return func.instr(func.lower(expr), needle) > 0
    if dialect == CLICKHOUSE:
        return func.position(func.lower(expr), needle) > 0
    return func.strpos(func.translate(expr, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"),
                       needle) > 0


def percentile_ranks(value: ColumnElement, partition: Sequence[ColumnElement]) -> tuple:
    """Window columns for percentiles computed in SQL: ``rank`` (1-based, in the order of ``value``) and ``n``
    (rows in the partition); filter with ``needed_rank`` and finish with ``interpolate``."""
    over = {"partition_by": list(partition)} if partition else {}
    return func.row_number().over(order_by=value, **over), func.count().over(**over)


def needed_rank(rank, n, qs: Sequence[int]) -> ColumnElement:
    """``rank`` is one of the two rows NumPy's linear interpolation reads for a percentile in ``qs`` (whole
    percents): with pos = (n - 1) * q / 100, rank - 1 is floor(pos) or floor(pos) + 1, that is
    rank * 100 <= (n - 1) * q + 200 and (n - 1) * q < rank * 100. Integer arithmetic without
    subtraction from the rank (ClickHouse's row_number() is unsigned), so every engine picks the same rows."""
    return or_(*[and_(rank * 100 <= (n - 1) * q + 200, (n - 1) * q < rank * 100) for q in qs])


def interpolate(values_by_rank: dict[int, float], n: int, qs: Sequence[int]) -> list[float | None]:
    """NumPy's linear-interpolation percentiles from the rows ``needed_rank`` picked (rank -> value)."""
    out: list[float | None] = []
    for q in qs:
        if n == 0:
            out.append(None)
            continue
        lo, rest = divmod((n - 1) * q, 100)
        low = float(values_by_rank[lo + 1])
        high = float(values_by_rank[min(lo + 2, n)])
        out.append(low + (high - low) * (rest / 100.0))
    return out
