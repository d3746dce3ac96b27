"""The one reader of a case's stored history: the event-log kernel's layout, in stored order."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select

from servicepulse.cases import HISTORY_COLUMNS, load_events
from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.eventlog import case_facts
from servicepulse.kernels.eventlog.schema import COLUMNS
from servicepulse.models import Case, OrgUnit
from servicepulse.models.cases import CaseFacts

RECORDS = [  # out of order, with a timestamp tie that source order breaks
    {"case_id": "H1", "activity": "Reply sent", "timestamp": "2026-03-02T12:00:00Z", "team": "Back Office",
     "direction": "outbound", "customer_facing": True, "event_id": "h1-3", "due": "x"},
    {"case_id": "H1", "activity": "Ticket opened", "timestamp": "2026-03-02T09:00:00Z", "direction": "inbound",
     "channel": "web", "resource": "ann", "line": "front", "event_id": "h1-1"},
    {"case_id": "H1", "activity": "Handed over", "timestamp": "2026-03-02T09:00:00Z", "team": "Front Office",
     "line": "back", "event_id": "h1-2"},
    {"case_id": "H2", "activity": "Ticket opened", "timestamp": "2026-03-01T09:00:00Z"},
]


def _ids(session) -> dict[str, int]:
    return dict(session.execute(select(Case.external_id, Case.id)).all())


def test_events_come_back_in_the_kernels_layout_and_stored_order(engine):
    with UnitOfWork(engine) as s:
        ingest_events(s, RECORDS, notify=False)
    with UnitOfWork(engine, readonly=True) as s:
        ids = _ids(s)
        teams = dict(s.execute(select(OrgUnit.name, OrgUnit.id)).all())
        events = load_events(s, [ids["H2"], ids["H1"], ids["H1"]])
        stored = {c: (f.events, f.handoffs, f.front_to_back) for c in ids for f in [s.get(CaseFacts, ids[c])]}
    assert tuple(events.columns) == HISTORY_COLUMNS == COLUMNS + ("team_id",)
    h1, h2 = str(ids["H1"]), str(ids["H2"])
    assert events["case_id"].tolist() == sorted([h1] * 3 + [h2], key=int)
    one = events[events["case_id"] == h1]
    assert one["activity"].tolist() == ["Ticket opened", "Handed over", "Reply sent"]  # the tie in source order
    assert one["event_id"].tolist() == ["h1-1", "h1-2", "h1-3"]
    assert str(events["timestamp"].dtype) == "datetime64[us, UTC]"
    assert str(events["customer_facing"].dtype) == "boolean" and str(events["team_id"].dtype) == "Int64"
    assert one["team"].isna().tolist() == [True, False, False]
    assert one["team_id"].tolist()[1:] == [teams["Front Office"], teams["Back Office"]]
    assert one["resource"].iloc[0] == "ann" and one["attributes"].isna().all()
    assert events["file_order"].tolist() == list(range(4)) and events["row"].tolist() == [1, 2, 3, 4]
    # the kernel takes the frame as it is, and agrees with the stored facts
    facts = case_facts(events)
    for case in ("H1", "H2"):
        row = facts.loc[str(ids[case])]
        assert (row["events"], row["handoffs"], row["front_to_back"]) == stored[case]


def test_until_a_query_of_cases_attributes_and_nothing(engine):
    with UnitOfWork(engine) as s:
        ingest_events(s, RECORDS, notify=False)
    with UnitOfWork(engine, readonly=True) as s:
        ids = _ids(s)
        early = load_events(s, select(Case.id).where(Case.external_id == "H1"),
                            until=datetime(2026, 3, 2, 10, tzinfo=UTC), attributes=True)
        none = load_events(s, [])
        unknown = load_events(s, [max(ids.values()) + 1])
    assert early["activity"].tolist() == ["Ticket opened", "Handed over"]
    assert set(early["case_id"]) == {str(ids["H1"])}
    assert early["attributes"].tolist() == [None, None]  # only the reply carried an extra column
    for empty in (none, unknown):
        assert empty.empty and tuple(empty.columns) == HISTORY_COLUMNS
        assert str(empty["timestamp"].dtype) == "datetime64[us, UTC]"
    with UnitOfWork(engine, readonly=True) as s:
        reply = load_events(s, [ids["H1"]], attributes=True)
    assert reply["attributes"].iloc[2] == {"due": "x"}
    assert isinstance(reply, pd.DataFrame)
