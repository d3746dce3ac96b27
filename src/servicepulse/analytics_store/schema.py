"""The ClickHouse tables of the analytics store, derived from the SQLAlchemy models.

Each replicated table keeps the main database's table and column names (so one SQLAlchemy Core
statement compiles for either) plus two columns of its own: `_version` (when the row was shipped,
microseconds since 1970) and `_deleted` (1 for a tombstone). ReplacingMergeTree(_version, _deleted)
keeps, per sorting key, the newest version and drops tombstones, so shipping the same rows twice
changes nothing. Read with `FINAL` (or after `OPTIMIZE ... FINAL`) to see each row once.

The sorting key starts with the column shipping looks rows up by (a unit's key) and holds only
columns a row never changes (a response's `submitted_at` moves when the
respondent saves again, so responses are keyed by id with a min-max index on the time), because rows
are only replaced within one sorting key. Personal data stays home: customers ship their id,
segment and language only, verbatims without the unredacted `original`.

`UNITS` groups the tables by what an outbox entry names: a response (with its answers and analysed
comment), a case (with its events and facts), a customer, a day of the score aggregate, or a whole
small dimension table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer, SmallInteger, String, Table, Text

from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    CaseFacts,
    Customer,
    Journey,
    Moment,
    OrgUnit,
    Question,
    Response,
    ScoreDailyCount,
    Survey,
    SurveyVersion,
    Verbatim,
    VerbatimMention,
)
from servicepulse.models.base import UTCDateTime

VERSION, DELETED = "_version", "_deleted"
# Short strings with few distinct values: dictionary-encoded.
LOW_CARDINALITY = {"channel", "language", "direction", "line", "measure", "activity", "theme", "question_key",
                   "segment", "kind", "type"}


@dataclass(frozen=True)
class Replicated:
    table: Table
    columns: tuple[str, ...]  # shipped columns, in table order
    key: str  # the primary key column (one per replicated table)
    group: str | None  # the column an outbox entry's key matches (None: the whole table ships)
    order_by: tuple[str, ...]
    shard_by: str | None  # the Distributed sharding expression on a cluster; None: a full copy on every node
    minmax: tuple[str, ...] = ()  # data-skipping indexes on time columns outside the sorting key

    @property
    def name(self) -> str:
        return self.table.name


def _cols(model, exclude: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> tuple[str, ...]:
    names = [c.name for c in model.__table__.columns]
    if only:
        return tuple(n for n in names if n in only)
    return tuple(n for n in names if n not in exclude)


def _r(model, group, order_by, shard_by, *, exclude=(), only=(), minmax=()) -> Replicated:
    table = model.__table__
    (key,) = [c.name for c in table.primary_key.columns]
    return Replicated(table, _cols(model, exclude, only), key, group, tuple(order_by), shard_by, tuple(minmax))


# Sharding on a cluster keeps a case together: its events, facts and the case row on one shard
# (cityHash64 of the case id), so process statistics run per shard without moving events. Responses
# with a case go to their case's shard (joins with case facts stay local); their answers and analysed
# comments follow the response id, which is what they join on. Customers (id, segment, language) and
# the small dimension tables are copied whole to every node, so every join with them stays local.
TABLES: dict[str, Replicated] = {r.name: r for r in (
    _r(Response, "id", ["id"], "cityHash64(ifNull(case_id, id))", exclude=("content_hash",),
       minmax=("submitted_at",)),
    _r(Answer, "response_id", ["response_id", "id"], "cityHash64(response_id)"),
    _r(Verbatim, "response_id", ["response_id"], "cityHash64(response_id)", exclude=("original",)),
    _r(VerbatimMention, "response_id", ["response_id", "id"], "cityHash64(response_id)"),
    _r(Case, "id", ["id"], "cityHash64(id)", minmax=("opened_at",)),
    _r(CaseEvent, "case_id", ["case_id", "occurred_at", "seq", "id"], "cityHash64(case_id)"),
    _r(CaseFacts, "case_id", ["case_id"], "cityHash64(case_id)"),
    _r(ScoreDailyCount, "day", ["grain", "measure", "day", "id"], "cityHash64(day)"),
    _r(Customer, "id", ["id"], None, only=("id", "segment", "language")),
    _r(Journey, None, ["id"], None),
    _r(Moment, None, ["id"], None),
    _r(OrgUnit, None, ["id"], None),
    _r(Survey, None, ["id"], None),
    _r(SurveyVersion, None, ["id"], None, exclude=("definition",)),
    _r(Question, None, ["id"], None, exclude=("config",)),
)}

# What an outbox entry's kind names -> the tables shipped for it (by the entry's key, or whole).
UNITS: dict[str, tuple[str, ...]] = {
    "response": ("responses", "answers", "verbatims", "verbatim_mentions"),
    "case": ("cases", "case_events", "case_facts"),
    "customer": ("customers",),
    "day": ("score_daily_counts",),
    **{name: (name,) for name, r in TABLES.items() if r.group is None},
}
# Main-database table -> (unit, column whose values are the unit's keys) for the write hooks.
UNIT_OF_TABLE: dict[str, tuple[str, str | None]] = {
    name: (unit, TABLES[name].group) for unit, names in UNITS.items() for name in names
}


def column_type(r: Replicated, name: str) -> str:
    """The ClickHouse type of a replicated column."""
    column = r.table.c[name]
    t = column.type
    if isinstance(t, UTCDateTime) or isinstance(t, DateTime):
        base = "DateTime64(6, 'UTC')"
    elif isinstance(t, Date):
        base = "Date32"
    elif isinstance(t, Boolean):
        base = "Bool"
    elif isinstance(t, SmallInteger):
        base = "Int16"
    elif isinstance(t, (Integer, BigInteger)):
        base = "Int64"
    elif isinstance(t, Float):
        base = "Float64"
    elif isinstance(t, (String, Text, JSON)):  # JSON travels as its text
        base = "String"
    else:
        raise TypeError(f"{r.name}.{name}: no ClickHouse type for {t!r}")
    nullable = column.nullable and name not in r.order_by
    if base == "String" and name in LOW_CARDINALITY:
        return "LowCardinality(Nullable(String))" if nullable else "LowCardinality(String)"
    return f"Nullable({base})" if nullable else base


_ARROW = {"DateTime64(6, 'UTC')": pa.timestamp("us", tz="UTC"), "Date32": pa.date32(), "Bool": pa.bool_(),
          "Int16": pa.int16(), "Int64": pa.int64(), "Float64": pa.float64(), "String": pa.string()}


def arrow_schema(r: Replicated) -> pa.Schema:
    """The Arrow schema rows of `r` are shipped in (with `_version` and `_deleted`)."""
    fields = []
    for name in r.columns:
        ch = column_type(r, name)
        base = ch.removeprefix("LowCardinality(").removeprefix("Nullable(").removeprefix("Nullable(").rstrip(")")
        base = "DateTime64(6, 'UTC')" if base.startswith("DateTime64") else base
        fields.append(pa.field(name, _ARROW[base], nullable="Nullable" in ch))
    fields += [pa.field(VERSION, pa.uint64(), nullable=False), pa.field(DELETED, pa.uint8(), nullable=False)]
    return pa.schema(fields)


def _q(name: str) -> str:
    return f"`{name}`"


def _body(r: Replicated) -> str:
    lines = [f"    {_q(n)} {column_type(r, n)}" for n in r.columns]
    lines += [f"    {_q(VERSION)} UInt64", f"    {_q(DELETED)} UInt8"]
    lines += [f"    INDEX ix_{r.name}_{c} {_q(c)} TYPE minmax GRANULARITY 1" for c in r.minmax]
    return "(\n" + ",\n".join(lines) + "\n)"


def _order(r: Replicated) -> str:
    return "(" + ", ".join(_q(c) for c in r.order_by) + ")"


def create_statements(names: list[str] | None = None) -> list[str]:
    """CREATE TABLE statements for one ClickHouse server or chDB (idempotent)."""
    out = []
    for name in names or list(TABLES):
        r = TABLES[name]
        out.append(f"CREATE TABLE IF NOT EXISTS {_q(r.name)} {_body(r)}\n"
                   f"ENGINE = ReplacingMergeTree({_q(VERSION)}, {_q(DELETED)})\nORDER BY {_order(r)}")
    return out


def cluster_statements(cluster: str) -> list[str]:
    """For a sharded, replicated cluster. Facts: a ReplicatedReplacingMergeTree `<table>_local` on every
    node (Keeper path by {shard}, replica by {replica}) and a Distributed `<table>` with the main
    database's name over them, which the application reads and writes. Customers and the dimension
    tables: one ReplicatedReplacingMergeTree under the main name, every node a replica of it."""
    c = _q(cluster)
    engine = "ReplicatedReplacingMergeTree('/clickhouse/tables/{path}', '{{replica}}', {v}, {d})"
    out = []
    for r in TABLES.values():
        if r.shard_by is None:
            out.append(f"CREATE TABLE IF NOT EXISTS {_q(r.name)} ON CLUSTER {c} {_body(r)}\n"
                       f"ENGINE = {engine.format(path='all/{database}/' + r.name, v=_q(VERSION), d=_q(DELETED))}"
                       f"\nORDER BY {_order(r)}")
            continue
        local = f"{r.name}_local"
        out.append(f"CREATE TABLE IF NOT EXISTS {_q(local)} ON CLUSTER {c} {_body(r)}\n"
                   f"ENGINE = {engine.format(path='{shard}/{database}/' + local, v=_q(VERSION), d=_q(DELETED))}"
                   f"\nORDER BY {_order(r)}")
        out.append(f"CREATE TABLE IF NOT EXISTS {_q(r.name)} ON CLUSTER {c} AS {_q(local)}\n"
                   f"ENGINE = Distributed({c}, currentDatabase(), {_q(local)}, {r.shard_by})")
    return out


def ddl(cluster: str | None = None) -> str:
    """The whole DDL as one script (statements end with ';')."""
    statements = cluster_statements(cluster) if cluster else create_statements()
    return "".join(s + ";\n\n" for s in statements)


def create_schema(store) -> None:
    """Create the replicated tables in `store` where missing (an AnalyticsStore)."""
    for statement in create_statements():
        store.command(statement)
