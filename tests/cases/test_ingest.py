"""Event ingestion into the database: idempotent, all-or-nothing, incremental facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.cases import facts_store
from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.eventlog import EventLogError, case_facts
from servicepulse.kernels.eventlog.facts import FACT_COLUMNS
from servicepulse.models import Case, CaseEvent, OrgUnit
from servicepulse.models.cases import CaseFacts

from .conftest import counts


def ev(case, activity, ts, **kw):
    return {"case_id": case, "activity": activity, "timestamp": ts, **kw}


STORY = [  # the fibre story of the issue, out of order on purpose
    ev("K1", "Ticket created", "2026-03-07T10:00:00+01:00", event_id="e2", team="Front Office", line="front",
       direction="inbound", channel="web", customer="C-9", customer_facing=True),
    ev("K1", "Call attempt", "2026-03-06T21:30:00+01:00", event_id="e1", direction="inbound", channel="phone"),
    ev("K1", "Closed", "2026-03-07T16:00:00+01:00", event_id="e3", team="Back Office", line="back"),
    ev("K1", "Customer calls again", "2026-03-09T09:00:00+01:00", event_id="e4", direction="inbound",
       channel="phone", team="Front Office", line="front", customer_facing=True),
    ev("K1", "Engineer visit", "2026-03-10T11:00:00+01:00", event_id="e5", team="Field", customer_facing=True),
    ev("K1", "Resolved", "2026-03-10T12:00:00+01:00", event_id="e6", team="Field"),
]


def stored_facts(session, external_id):
    case = session.scalar(select(Case).where(Case.external_id == external_id))
    return case, session.get(CaseFacts, case.id)


def test_story_creates_case_facts_and_teams(engine, world):
    with UnitOfWork(engine) as s:
        summary = ingest_events(s, STORY)
    assert (summary.stored, summary.cases_created, summary.teams_created, summary.customers_created) == (6, 1, 1, 1)
    with UnitOfWork(engine, readonly=True) as s:
        case, facts = stored_facts(s, "K1")
        # kernel on the same events (read independently from the records) gives the stored facts
        frame = pd.DataFrame(STORY)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
        expected = case_facts(frame).loc["K1"]
        for col in FACT_COLUMNS:
            got = getattr(facts, col)
            if isinstance(expected[col], (float, np.floating)):
                assert got == pytest.approx(float(expected[col]), abs=1e-6), col
            elif col in ("started_at", "ended_at"):
                assert pd.Timestamp(got) == expected[col], col
            else:
                assert got == expected[col], col
        assert facts.inbound_contacts == 3 and facts.reopenings == 1 and facts.after_hours_contacts == 1
        assert facts.closed and not facts.first_time_right
        assert case.opened_at == pd.Timestamp("2026-03-06T20:30:00Z").to_pydatetime()
        assert case.closed_at == pd.Timestamp("2026-03-10T11:00:00Z").to_pydatetime()
        field = s.scalar(select(OrgUnit).where(OrgUnit.name == "Field"))
        assert case.last_team_id == field.id and field.kind == "team"
        assert case.customer_id is not None
        first = s.scalar(select(CaseEvent).where(CaseEvent.external_id == "e1"))
        assert first.occurred_at == pd.Timestamp("2026-03-06T20:30:00Z").to_pydatetime()  # +01:00 respected


def test_replay_and_overlap_store_each_event_once(engine, world):
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY[:4])
    with UnitOfWork(engine) as s:
        again = ingest_events(s, STORY)  # 4 known, 2 new
    assert (again.stored, again.duplicates) == (2, 4)
    assert counts(engine)[:2] == (6, 1)
    with UnitOfWork(engine, readonly=True) as s:
        _, facts = stored_facts(s, "K1")
        assert facts.events == 6 and facts.reopenings == 1


def test_no_event_ids_same_file_twice_is_idempotent(engine, world):
    records = [{k: v for k, v in r.items() if k != "event_id"} for r in STORY]
    records.append(dict(records[1]))  # a true repeat inside the file is kept as a second event
    with UnitOfWork(engine) as s:
        assert ingest_events(s, records).stored == 7
    with UnitOfWork(engine) as s:
        assert ingest_events(s, records).stored == 0
    assert counts(engine)[0] == 7


def test_incremental_update_touches_only_new_cases(engine, world):
    other = [ev("K2", "Ticket created", "2026-03-01T09:00:00Z", event_id="x1", direction="inbound")]
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY[:3] + other)
    with UnitOfWork(engine, readonly=True) as s:
        _, k2_before = stored_facts(s, "K2")
        k2_stamp = k2_before.updated_at
    with UnitOfWork(engine) as s:
        summary = ingest_events(s, STORY[3:])
    with UnitOfWork(engine, readonly=True) as s:
        k1, k1_facts = stored_facts(s, "K1")
        _, k2_after = stored_facts(s, "K2")
        assert summary.case_ids == [k1.id]
        assert k2_after.updated_at == k2_stamp
        assert k1_facts.events == 6 and k1_facts.reopenings == 1 and k1_facts.inbound_contacts == 3


def test_bad_rows_write_nothing(engine, world):
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY[:2])
    before = counts(engine)
    bad = STORY[2:] + [ev("K3", "X", "yesterday-ish"), ev("", "Y", "2026-03-01T10:00:00Z")]
    with pytest.raises(EventLogError) as info:
        with UnitOfWork(engine) as s:
            ingest_events(s, bad)
    assert info.value.error_count == 2
    assert [(e.row, e.field) for e in info.value.errors] == [(4, "timestamp"), (5, "case_id")]
    assert counts(engine) == before


def test_moment_rules_map_events_and_set_journey(engine, world):
    from servicepulse.journeys.repository import replace_rules

    with UnitOfWork(engine) as s:
        replace_rules(s, [{"moment": "fault_repair/report", "pattern": "ticket created|call", "channel": None},
                          {"moment": "fault_repair/visit", "activity": "engineer visit"}])
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY)
    with UnitOfWork(engine, readonly=True) as s:
        moments = dict(s.execute(select(CaseEvent.external_id, CaseEvent.moment_id)).all())
        journey_id = s.scalar(select(Case.journey_id).where(Case.external_id == "K1"))
    assert moments["e1"] == moments["e2"] == world["report"]
    assert moments["e5"] == world["visit"] and moments["e3"] is None
    assert journey_id == world["journey"]


def test_recompute_all_matches_kernel(engine, world):
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY)
        s.execute(CaseFacts.__table__.delete())
    with UnitOfWork(engine) as s:
        assert facts_store.recompute_all(s) == 1
        _, facts = stored_facts(s, "K1")
        assert facts.events == 6 and facts.reopenings == 1
