"""The `case_facts` table, kept up to date for the cases an import touches.

Follows the kernel's incremental contract (`eventlog.update_case_facts`): the
facts of a case depend only on its own events, so after an import only the
touched cases are recomputed. Cases created by the import need no history:
the batch is all they have, so their facts (and the case row's opened_at,
closed_at and last team) come from the frame in memory before anything is
written (`batch_facts`, `case_fields`). Cases that already had events are
recomputed from their complete stored history after the write
(`recompute_all`, reading it with `history.load_events`, which uses the
database case id, as text, for ``case_id``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from servicepulse.cases import effort
from servicepulse.cases.history import load_events
from servicepulse.db import bulkio
from servicepulse.kernels.eventlog import (
    FactsConfig,
    OpeningHours,
    case_facts,
    update_case_facts,
)
from servicepulse.kernels.eventlog.facts import FACT_COLUMNS
from servicepulse.models import CaseEvent
from servicepulse.models.base import utcnow
from servicepulse.models.cases import CaseFacts

CHUNK = 5_000


def batch_facts(events: pd.DataFrame, *, calendar: OpeningHours | None = None,
                config: FactsConfig | None = None) -> pd.DataFrame:
    """Facts of cases whose complete history is ``events`` (cases new in this import)."""
    return case_facts(events.reset_index(drop=True), calendar, config)


def case_fields(facts: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """What the cases row keeps of its facts: opened_at = first event, closed_at =
    last event if the case is closed, last_team_id = team of the latest event with
    one. ``events`` carries ``team_id``; indexed like ``facts``."""
    teams = events.loc[events["team_id"].notna(), ["case_id", "timestamp", "file_order", "team_id"]]
    last_team = (teams.sort_values(["timestamp", "file_order"], kind="stable").drop_duplicates("case_id", keep="last")
                 .set_index("case_id")["team_id"])
    return pd.DataFrame({
        "opened_at": facts["started_at"],
        "closed_at": facts["ended_at"].where(facts["closed"]),
        "last_team_id": last_team.reindex(facts.index).astype("Int64"),
    }, index=facts.index)


def recompute_all(session: Session, case_ids: Sequence[int] | None = None, *, calendar: OpeningHours | None = None,
                  config: FactsConfig | None = None) -> int:
    """Facts for these cases (default: every case with events) from their stored history.
    For data written without the importer (e.g. the demo loader); returns cases done."""
    if case_ids is None:
        case_ids = session.scalars(select(CaseEvent.case_id).distinct()).all()
    ids = sorted(int(i) for i in case_ids)
    done = 0
    for start in range(0, len(ids), 50_000):
        part = ids[start:start + 50_000]
        events = load_events(session, part)
        if events.empty:
            continue
        facts = update_case_facts(None, events, None, calendar=calendar, config=config)
        store(session, facts)
        _update_cases(session, facts, events)
        done += len(facts)
    return done


def store(session: Session, facts: pd.DataFrame, existing: set[int] | None = None) -> None:
    """Replace the stored facts rows of these cases, with the effort index of the active model.
    ``existing``: the cases that existed before this import (None: all may have stored rows);
    cases created by the import have no stored facts, answers or promises to look up."""
    if facts.empty:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    ids = facts.index.astype(np.int64).to_numpy()
    old = ids if existing is None else np.array(sorted(existing), dtype=np.int64)
    for start in range(0, len(old), CHUNK):
        session.execute(delete(CaseFacts).where(CaseFacts.case_id.in_(old[start:start + CHUNK].tolist())))
    estimate, index = effort.effort_for(session, ids, facts, old)
    columns: dict[str, np.ndarray] = {"case_id": ids.astype(object)}
    for c in FACT_COLUMNS:
        s = facts[c]
        if c in ("started_at", "ended_at"):
            columns[c] = bulkio.ts_text(s, dialect)
        elif c in ("closed", "first_time_right"):
            columns[c] = bulkio.booleans(s, dialect)
        elif s.dtype.kind == "f":
            columns[c] = bulkio.floats(s)
        else:
            columns[c] = bulkio.ints(s)
    columns["effort_estimate"] = _nullable_floats(estimate)
    columns["effort_index"] = _nullable_floats(index)
    columns["updated_at"] = bulkio.ts_text(pd.Series([utcnow()] * len(ids)), dialect)
    bulkio.write_rows(conn, CaseFacts.__table__, columns)


def _nullable_floats(values: np.ndarray | None) -> np.ndarray:
    if values is None:
        return np.full(0, None, dtype=object)
    arr = np.asarray(values, dtype=float).astype(object)
    arr[np.isnan(np.asarray(values, dtype=float))] = None
    return arr


def _update_cases(session: Session, facts: pd.DataFrame, events: pd.DataFrame) -> None:
    """Write `case_fields` to the cases rows (a team stays when no event names one)."""
    conn = session.connection()
    dialect = conn.dialect.name
    ids = facts.index.astype(np.int64).to_numpy()
    fields = case_fields(facts, events)
    stage = bulkio.temp_table(conn, [bulkio.id_column("id", primary_key=True), bulkio.ts_column("opened_at"),
                                     bulkio.ts_column("closed_at"), bulkio.id_column("last_team_id")])
    bulkio.write_rows(conn, stage, {
        "id": ids.astype(object),
        "opened_at": bulkio.ts_text(fields["opened_at"], dialect),
        "closed_at": bulkio.ts_text(fields["closed_at"], dialect),
        "last_team_id": bulkio.ints(fields["last_team_id"]),
    })
    s = f'"{stage.name}"'
    conn.execute(text(
        f"UPDATE cases SET opened_at = (SELECT opened_at FROM {s} WHERE {s}.id = cases.id), "
        f"closed_at = (SELECT closed_at FROM {s} WHERE {s}.id = cases.id), "
        f"last_team_id = COALESCE((SELECT last_team_id FROM {s} WHERE {s}.id = cases.id), cases.last_team_id) "
        f"WHERE id IN (SELECT id FROM {s})"))
    bulkio.drop_temp(conn, stage)
    session.expire_all()
