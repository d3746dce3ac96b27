"""Bulk event ingestion: a normalised event frame into cases and case_events.

Steps, all in the caller's transaction (nothing is half-imported):

1. every event gets an external id: its own (``event_id``) or, when the
   source has none, a content hash of (case, activity, timestamp, resource,
   occurrence), so that importing the same file twice stores it once;
   duplicates inside the batch keep their first occurrence;
2. teams are resolved by name or key (unknown names become new teams),
   moments by the moment mapping rules;
3. cases are found by external id or created, with ids taken up front and
   opened_at, closed_at and last team from the batch (a new case's batch is
   its whole history); customer and journey from the event attributes
   ``customer`` / ``journey`` when given, otherwise the journey of the first
   mapped moment;
4. events are written with the database skipping external ids it already has
   (SQLite: executemany ``ON CONFLICT DO NOTHING``; PostgreSQL: events of new
   cases by ``COPY`` straight into case_events under a savepoint, the others
   -- and everything, if that ``COPY`` meets a stored id -- by ``COPY`` into a
   temporary table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``);
5. facts (`cases.facts_store`): new cases' from the batch in memory, the other
   touched cases' from their stored history, with their cases rows updated.

Ties in time are broken by ``seq`` (the event's position in its source)
and then by insertion order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from psycopg.errors import UniqueViolation
from sqlalchemy import Column, func, select, text
from sqlalchemy.orm import Session

from servicepulse.customers import resolve_customers
from servicepulse.db import bulkio
from servicepulse.models import Case, CaseEvent, Journey, Moment, OrgUnit

Progress = Callable[[str, int, int], None]
CUSTOMER_KEYS = ("customer", "customer_id", "case:customer", "klant")
JOURNEY_KEYS = ("journey", "case:journey", "klantreis")
LOOKUP_CHUNK = 5_000


@dataclass
class IngestSummary:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    cases_created: int = 0
    cases_touched: int = 0
    teams_created: int = 0
    customers_created: int = 0
    case_ids: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("case_ids", "seconds")}


def event_external_ids(frame: pd.DataFrame) -> pd.Series:
    """The event's own id, or a stable content hash where it has none."""
    ids = frame["event_id"].astype(object)
    missing = ids.isna().to_numpy()
    if not missing.any():
        return ids
    part = frame.loc[missing, ["case_id", "activity", "timestamp", "resource"]]
    h = pd.util.hash_pandas_object(part, index=False)
    occurrence = h.groupby(h.to_numpy()).cumcount().to_numpy()
    made = [f"h:{v:016x}" if k == 0 else f"h:{v:016x}:{k}" for v, k in zip(h.to_numpy().tolist(), occurrence.tolist())]
    out = ids.to_numpy(dtype=object).copy()
    out[missing] = made
    return pd.Series(out, index=frame.index, dtype=object)


def _first_attribute(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.Series:
    """Per case, the first non-empty value of any of ``keys`` in the event attributes."""
    attrs = frame["attributes"].to_numpy(dtype=object)
    has = np.fromiter((isinstance(a, dict) for a in attrs), dtype=bool, count=len(attrs))
    if not has.any():
        return pd.Series(dtype=object)
    vals = []
    for a in attrs[has]:
        v = next((a[k] for k in keys if a.get(k) not in (None, "")), None)
        vals.append(None if v is None else str(v).strip() or None)
    s = pd.Series(vals, index=frame["case_id"].to_numpy()[has], dtype=object).dropna()
    return s[~s.index.duplicated(keep="first")]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")[:70] or "team"


def resolve_teams(session: Session, names: pd.Series, summary: IngestSummary) -> tuple[pd.Series, dict[str, str]]:
    """Team id per event (by name or key, case-insensitive); unknown teams are created."""
    wanted = pd.unique(names.dropna().to_numpy(dtype=object))
    units = session.execute(select(OrgUnit.id, OrgUnit.key, OrgUnit.name).where(OrgUnit.kind == "team")).all()
    by_name = {}
    aliases = {}
    for uid, key, name in units:
        by_name.setdefault(name.casefold(), uid)
        by_name.setdefault(key.casefold(), uid)
        aliases[name] = key
    keys = {k for _, k, _ in session.execute(select(OrgUnit.id, OrgUnit.key, OrgUnit.name)).all()}
    for name in wanted:
        if name.casefold() in by_name:
            continue
        key, i = _slug(name), 1
        while key in keys:
            i += 1
            key = f"{_slug(name)[:66]}_{i}"
        unit = OrgUnit(key=key, name=name[:200], kind="team")
        session.add(unit)
        session.flush()
        keys.add(key)
        by_name[name.casefold()] = unit.id
        aliases[name] = key
        summary.teams_created += 1
    codes, uniques = pd.factorize(names.to_numpy(dtype=object))
    ids = np.array([by_name[str(n).casefold()] for n in uniques] + [None], dtype=object)[codes]
    return pd.Series(pd.array(ids, dtype="Int64"), index=names.index), aliases


def _chunks(values: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _case_ids(session: Session, externals: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    if len(externals) > LOOKUP_CHUNK:  # many: join a staged list instead of thousands of bound parameters
        conn = session.connection()
        stage = bulkio.temp_table(conn, [bulkio.text_column("external_id", 100)])
        bulkio.write_rows(conn, stage, {"external_id": np.array(externals, dtype=object)})
        rows = conn.execute(select(Case.id, Case.external_id).join(stage, stage.c.external_id == Case.external_id))
        found.update((ext, cid) for cid, ext in rows)
        bulkio.drop_temp(conn, stage)
        return found
    for part in _chunks(externals):
        found.update((ext, cid) for cid, ext in session.execute(
            select(Case.id, Case.external_id).where(Case.external_id.in_(part))))
    return found


def known_cases(session: Session, frame: pd.DataFrame) -> dict[str, int]:
    """Database id of every case of the batch that is already stored, by external id."""
    return _case_ids(session, pd.unique(frame["case_id"].to_numpy(dtype=object)).tolist())


def create_cases(session: Session, frame: pd.DataFrame, moment_ids: np.ndarray, new: pd.DataFrame,
                 summary: IngestSummary) -> dict[str, int]:
    """Insert the cases in ``new`` (index: external id; columns opened_at, closed_at,
    last_team_id as the batch gives them) and return their ids by external id.

    Ids are taken up front (PostgreSQL: from the sequence; SQLite: above the
    highest id, safe because the write transaction holds the database lock),
    so a bulk write needs no second query to learn them."""
    if new.empty:
        return {}
    conn = session.connection()
    dialect = conn.dialect.name
    externals = new.index.to_numpy(dtype=object)
    if dialect == "postgresql":
        ids = np.fromiter(conn.execute(
            text("SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)"),
            {"n": len(new)}).scalars(), dtype=np.int64, count=len(new))
    else:
        top = conn.execute(select(func.coalesce(func.max(Case.id), 0))).scalar_one()
        ids = np.arange(top + 1, top + 1 + len(new), dtype=np.int64)
    customers = _resolve_customers(session, frame, summary)
    journeys = _resolve_journeys(session, frame, moment_ids)
    bulkio.write_rows(conn, Case.__table__, {
        "id": ids.astype(object),
        "external_id": externals,
        "customer_id": np.array([customers.get(e) for e in externals], dtype=object),
        "journey_id": np.array([journeys.get(e) for e in externals], dtype=object),
        "opened_at": bulkio.ts_text(new["opened_at"], dialect),
        "closed_at": bulkio.ts_text(new["closed_at"], dialect),
        "last_team_id": bulkio.ints(new["last_team_id"]),
        "attributes": np.full(len(new), "{}", dtype=object),
    })
    summary.cases_created = len(new)
    return dict(zip(externals.tolist(), ids.tolist()))


def _resolve_customers(session: Session, frame: pd.DataFrame, summary: IngestSummary) -> dict[str, int]:
    per_case = _first_attribute(frame, CUSTOMER_KEYS)
    if per_case.empty:
        return {}
    wanted = pd.unique(per_case.to_numpy(dtype=object)).tolist()
    # customers named only by an event get the default language; the customers domain owns the table
    resolved = resolve_customers(session, dict.fromkeys(wanted, "nl"), pd.Timestamp.now(tz="UTC").to_pydatetime())
    summary.customers_created += resolved.created
    return {case: resolved.ids[c] for case, c in per_case.items()}


def _resolve_journeys(session: Session, frame: pd.DataFrame, moment_ids: np.ndarray) -> dict[str, int]:
    """Journey per case: a ``journey`` attribute (key), else the journey of its first mapped moment."""
    out: dict[str, int] = {}
    moment_journey = dict(session.execute(select(Moment.id, Moment.journey_id)).all())
    mapped = pd.Series(moment_ids, index=frame.index)
    has = mapped.notna().to_numpy()
    if has.any():
        first = frame.loc[has].assign(m=mapped[has]).sort_values(["timestamp", "file_order"], kind="stable")
        first = first.drop_duplicates("case_id")
        out.update({c: moment_journey.get(m) for c, m in zip(first["case_id"], first["m"])})
    per_case = _first_attribute(frame, JOURNEY_KEYS)
    if not per_case.empty:
        keys = dict(session.execute(select(Journey.key, Journey.id)).all())
        out.update({c: keys[k] for c, k in per_case.items() if k in keys})
    return {c: j for c, j in out.items() if j is not None}


def _attributes_text(values: pd.Series) -> np.ndarray:
    return np.array([json.dumps(a, ensure_ascii=False, default=str) if isinstance(a, dict) else "{}"
                     for a in values], dtype=object)


def write_events(session: Session, frame: pd.DataFrame, case_ids: pd.Series, team_ids: pd.Series,
                 moment_ids: np.ndarray, external_ids: pd.Series, new_case: np.ndarray,
                 progress: Callable[[int], None] | None = None) -> tuple[int, bool]:
    """Insert the events, skipping external ids already stored. Returns how many
    were stored and whether every event of a new case (``new_case``) was.

    Events of cases created by this import can only collide with a stored
    event of another case (a reused id), so on PostgreSQL they are copied
    straight into case_events under a savepoint; only if that meets a
    duplicate id do they go the staged ``ON CONFLICT`` way with the rest."""
    conn = session.connection()
    dialect = conn.dialect.name
    now = bulkio.ts_text(pd.Series([pd.Timestamp.now(tz="UTC")] * 1), dialect)[0]
    n = len(frame)
    columns = {
        "case_id": bulkio.ints(case_ids),
        "external_id": external_ids.to_numpy(dtype=object),
        "occurred_at": bulkio.ts_text(frame["timestamp"], dialect),
        "seq": bulkio.ints(frame["file_order"]),
        "activity": frame["activity"].to_numpy(dtype=object),
        "channel": bulkio.plain(frame["channel"]),
        "direction": bulkio.plain(frame["direction"]),
        "actor": bulkio.plain(frame["resource"]),
        "team_id": bulkio.ints(team_ids),
        "line": bulkio.plain(frame["line"]),
        "customer_facing": bulkio.booleans(frame["customer_facing"], dialect),
        "moment_id": bulkio.ints(pd.Series(moment_ids, dtype=object)),
        "attributes": _attributes_text(frame["attributes"]),
        "ingested_at": np.full(n, now, dtype=object),
    }
    # in (case, time) order: the (case_id, occurred_at) index then grows at its end, page by page
    order = np.lexsort((pd.DatetimeIndex(frame["timestamp"]).asi8, case_ids.to_numpy(dtype=np.int64)))
    fresh = np.asarray(new_case, dtype=bool)[order]
    parts = [{name: values[order[keep]] for name, values in columns.items()} for keep in (fresh, ~fresh)]
    first = int(fresh.sum())
    progress_rest = (lambda done: progress(first + done)) if progress else None
    if dialect != "postgresql":
        # a page cache big enough for the index updates of a large import (default: 2 MB)
        previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = {-min(max(n // 4, 65_536), 262_144)}")
        try:
            stored = [bulkio.write_rows(conn, CaseEvent.__table__, part, ignore_conflicts_on="external_id",
                                        progress=report) for part, report in zip(parts, (progress, progress_rest))]
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")
        return sum(stored), stored[0] == first
    new_events, old_events = parts
    savepoint = conn.begin_nested()
    try:
        stored = bulkio.write_rows(conn, CaseEvent.__table__, new_events, progress=progress)
        savepoint.commit()
    except UniqueViolation as exc:
        savepoint.rollback()
        if exc.diag.constraint_name != "uq_case_events_external_id":
            raise
        everything = {name: np.concatenate([new_events[name], old_events[name]]) for name in columns}
        return _stage_events(conn, everything, progress), False
    return stored + _stage_events(conn, old_events, progress_rest), True


def _stage_events(conn, columns: dict[str, np.ndarray], progress) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT that skips stored external ids."""
    if not len(columns["case_id"]):
        return 0
    table = CaseEvent.__table__
    stage = bulkio.temp_table(conn, [Column(c.name, c.type) for c in table.columns if c.name in columns])
    bulkio.write_rows(conn, stage, columns, progress=progress)
    names = ", ".join(f'"{c}"' for c in columns)
    result = conn.execute(text(
        f'INSERT INTO case_events ({names}) SELECT {names} FROM "{stage.name}" '
        f"ON CONFLICT (external_id) DO NOTHING"))
    bulkio.drop_temp(conn, stage)
    return result.rowcount
