"""A case's stored history, read one way for every reader.

``load_events(session, cases, until=None, attributes=False)`` returns the stored
events of some cases in the event-log kernel's normalised layout
(`servicepulse.kernels.eventlog.schema.COLUMNS`, what `case_facts` takes), plus
``team_id``:

==================  ======================  ==========================================
column              dtype                   stored as
==================  ======================  ==========================================
case_id             str                     the database case id, as text
activity            str                     activity
timestamp           datetime64[us, UTC]     occurred_at
resource            str, nullable           actor
team                str, nullable           the team's name
channel             str, nullable           channel
direction           str, nullable           direction
line                str, nullable           line
customer_facing     boolean                 customer_facing
event_id            str, nullable           external_id
attributes          object (dict or None)   attributes (None unless ``attributes=True``)
row, file_order     int64                   position in the frame (1-based, 0-based)
team_id             Int64                   team_id
==================  ======================  ==========================================

Rows are ordered by case id, time, then source order (``seq``) and insertion,
so ``file_order`` is the stored order that breaks timestamp ties in the kernel.
Case facts, the timeline, promise evaluation, the signals, the forecasts and
the key-driver input all read through here, so they see the same history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from servicepulse.kernels.eventlog.schema import COLUMNS, empty_frame
from servicepulse.models import CaseEvent, OrgUnit

HISTORY_COLUMNS = COLUMNS + ("team_id",)
CHUNK = 5_000  # case ids per query: well under SQLite's bound-parameter limit
_TEXT = ("resource", "team", "channel", "direction", "line", "event_id")
_SELECTED = ("case_id", "activity", "timestamp", "resource", "team", "team_id", "channel", "direction", "line",
             "customer_facing", "event_id")


def load_events(session: Session, cases: Iterable[int] | Select, *, until: datetime | None = None,
                attributes: bool = False) -> pd.DataFrame:
    """The stored events of ``cases`` (case ids, or a select of case ids) that happened by
    ``until`` (all when None), in the layout above. ``attributes=True`` also reads the
    events' attribute dicts (JSON: only for readers that need them)."""
    columns = [CaseEvent.case_id, CaseEvent.activity, CaseEvent.occurred_at, CaseEvent.actor, OrgUnit.name,
               CaseEvent.team_id, CaseEvent.channel, CaseEvent.direction, CaseEvent.line,
               CaseEvent.customer_facing, CaseEvent.external_id]
    names = list(_SELECTED)
    if attributes:
        columns.append(CaseEvent.attributes)
        names.append("attributes")
    base = (select(*columns).outerjoin(OrgUnit, OrgUnit.id == CaseEvent.team_id)
            .order_by(CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id))
    if until is not None:
        base = base.where(CaseEvent.occurred_at <= until)
    if isinstance(cases, Select):  # one statement: the database picks the cases
        parts = [session.execute(base.where(CaseEvent.case_id.in_(cases))).all()]
    else:
        ids = sorted({int(i) for i in cases})
        # id chunks in ascending order keep the concatenation in case order
        parts = [session.execute(base.where(CaseEvent.case_id.in_(ids[i:i + CHUNK]))).all()
                 for i in range(0, len(ids), CHUNK)]
    rows = [r for part in parts for r in part]
    if not rows:
        return empty_history()
    raw = pd.DataFrame(rows, columns=names)
    n = len(raw)
    frame = pd.DataFrame({
        "case_id": raw["case_id"].astype("int64").astype("str"),
        "activity": raw["activity"].astype("str"),
        "timestamp": pd.to_datetime(raw["timestamp"], utc=True).dt.as_unit("us"),
        **{c: raw[c].astype("str") for c in _TEXT},
        "customer_facing": raw["customer_facing"].astype("boolean"),
        # as the kernel's reader leaves them: a dict of the extra fields, None when there are none
        "attributes": (raw["attributes"].map(lambda a: a or None) if attributes
                       else pd.Series(None, index=raw.index, dtype=object)),
        "row": np.arange(1, n + 1, dtype=np.int64),
        "file_order": np.arange(n, dtype=np.int64),
        "team_id": raw["team_id"].astype("Int64"),
    })
    return frame[list(HISTORY_COLUMNS)]


def empty_history() -> pd.DataFrame:
    """No events, with the dtypes of `load_events`."""
    frame = empty_frame()
    frame["team_id"] = pd.Series(dtype="Int64")
    return frame[list(HISTORY_COLUMNS)]
