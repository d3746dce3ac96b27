"""The bulk import's fast paths: cases created with their ids and case fields
from memory, events of new cases written straight to case_events, and the
fallback when one of them reuses an event id that is already stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select

from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.eventlog import case_facts
from servicepulse.kernels.eventlog.facts import FACT_COLUMNS
from servicepulse.models import Case, CaseEvent, Customer, OrgUnit
from servicepulse.models.cases import CaseFacts

from .conftest import counts
from .test_ingest import STORY, ev, stored_facts


def test_new_case_reusing_a_stored_event_id_is_skipped_and_its_facts_follow_the_store(engine, world):
    with UnitOfWork(engine) as s:
        ingest_events(s, STORY)
    batch = [ev("K9", "Ticket created", "2026-04-01T09:00:00Z", event_id="n1", direction="inbound"),
             ev("K9", "Closed", "2026-03-01T08:00:00Z", event_id="e3"),  # K1's event id: already stored
             ev("K9", "Resolved", "2026-04-02T09:00:00Z", event_id="n2")]
    with UnitOfWork(engine) as s:
        summary = ingest_events(s, batch)
    assert (summary.stored, summary.duplicates, summary.cases_created) == (2, 1, 1)
    assert counts(engine) == (8, 2, 2)
    with UnitOfWork(engine, readonly=True) as s:
        k9, facts = stored_facts(s, "K9")
        _, k1_facts = stored_facts(s, "K1")
        # the skipped event (the earliest in the batch) counts nowhere in K9
        assert facts.events == 2 and facts.closed
        assert k9.opened_at == pd.Timestamp("2026-04-01T09:00:00Z").to_pydatetime()
        assert k9.closed_at == pd.Timestamp("2026-04-02T09:00:00Z").to_pydatetime()
        assert k1_facts.events == 6
        owner = s.scalar(select(CaseEvent.case_id).where(CaseEvent.external_id == "e3"))
        assert owner != k9.id


def test_many_new_cases_get_their_customer_journey_and_case_fields(engine, world):
    rng = np.random.default_rng(5)
    records = []
    for i in range(40):
        start = pd.Timestamp("2026-02-01T08:00:00Z") + pd.Timedelta(hours=int(rng.integers(0, 500)))
        steps = ["Ticket created", "Assign", "Engineer visit", "Closed"][: int(rng.integers(1, 5))]
        for j, activity in enumerate(steps):
            records.append(ev(f"B{i}", activity, (start + pd.Timedelta(hours=3 * j)).isoformat(),
                              event_id=f"b{i}-{j}", team=["Front Office", "Back Office", None][(i + j) % 3],
                              customer=f"cust-{i % 7}", journey="fault_repair", direction="inbound"))
    order = rng.permutation(len(records))
    with UnitOfWork(engine) as s:
        summary = ingest_events(s, [records[k] for k in order])
    assert (summary.stored, summary.cases_created, summary.customers_created) == (len(records), 40, 7)

    frame = pd.DataFrame(records)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    expected = case_facts(frame)
    with UnitOfWork(engine, readonly=True) as s:
        teams = dict(s.execute(select(OrgUnit.name, OrgUnit.id)).all())
        customers = dict(s.execute(select(Customer.id, Customer.external_id)).all())
        for case in s.scalars(select(Case)):
            i = int(case.external_id[1:])
            events = frame[frame["case_id"] == case.external_id]
            assert customers[case.customer_id] == f"cust-{i % 7}"
            assert case.journey_id == world["journey"]
            assert case.opened_at == events["timestamp"].min().to_pydatetime()
            closed = events["activity"].iloc[-1] == "Closed"
            assert case.closed_at == (events["timestamp"].max().to_pydatetime() if closed else None)
            named = events.dropna(subset=["team"])
            assert case.last_team_id == (teams[named["team"].iloc[-1]] if len(named) else None)
            facts = s.get(CaseFacts, case.id)
            for col in FACT_COLUMNS:
                want = expected.loc[case.external_id, col]
                got = getattr(facts, col)
                if col in ("started_at", "ended_at"):
                    assert pd.Timestamp(got) == want, col
                else:
                    assert got == (float(want) if isinstance(want, np.floating) else want), col


def test_special_characters_survive_the_bulk_write(engine, world):
    odd = ["tab\there", "new\nline", "back\\slash", "\\N", "", "quote \"x\", comma", "café ✓", "cr\rhere"]
    records = [ev("S1", f"step {k} <{text}>", f"2026-05-01T{10 + k:02d}:00:00Z", event_id=f"s{k}", resource=text,
                  note=text) for k, text in enumerate(odd)]
    with UnitOfWork(engine) as s:
        assert ingest_events(s, records).stored == len(odd)
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(CaseEvent.external_id, CaseEvent.activity, CaseEvent.actor, CaseEvent.attributes)
                         .order_by(CaseEvent.occurred_at)).all()
    assert [r.activity for r in rows] == [f"step {k} <{text}>" for k, text in enumerate(odd)]
    assert [r.actor for r in rows] == [text or None for text in odd]
    assert [r.attributes.get("note") for r in rows] == [text or None for text in odd]
