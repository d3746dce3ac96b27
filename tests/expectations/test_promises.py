"""Promise evaluation with a controllable clock, on cases built through event ingestion."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.expectations.promises import (
    add_promise,
    evaluate_promises,
    import_promises_csv,
    recognise_promises,
)
from servicepulse.models import Case, Promise

from .helpers import at, event, ingest


def _status(engine, case: str) -> list[tuple[str, str]]:
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Promise.kind, Promise.status).join(Case).where(Case.external_id == case)
                         .order_by(Promise.made_at)).all()
    return [tuple(r) for r in rows]


def test_callback_promise_from_event_is_kept_broken_or_open_by_the_clock(engine):
    ingest(engine, [
        event("C1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
        event("C1", 0.1, "Call-back promised", team="Back office", due_at=at(24).isoformat()),
        # an automatic status text has no team: it does not keep a call-back
        event("C1", 5, "Status update sent", direction="outbound", facing=True, team=None, channel="sms"),
        event("C1", 30, "Customer called back", direction="outbound", facing=True, channel="phone"),
        event("C2", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
        event("C2", 0.1, "Call-back promised"),  # no due attribute: the rule's 24 hours
        event("C2", 20, "Customer called back", direction="outbound", facing=True, channel="phone"),
    ])
    with UnitOfWork(engine) as s:
        assert recognise_promises(s) == 2
        assert recognise_promises(s) == 0  # one promise per event, ever
        summary = evaluate_promises(s, at(10))
        assert (summary.kept, summary.broken, summary.still_open) == (0, 0, 2)
    assert _status(engine, "C1") == [("callback", "open")]
    with UnitOfWork(engine) as s:
        evaluate_promises(s, at(21))  # C2's call (hour 20) is now in the past and before its due time
    assert _status(engine, "C2") == [("callback", "kept")]
    assert _status(engine, "C1") == [("callback", "open")]
    with UnitOfWork(engine) as s:
        evaluate_promises(s, at(24.5))  # C1's due time has passed without a call
        broken = s.scalar(select(Promise).join(Case).where(Case.external_id == "C1"))
        assert broken.status == "broken" and broken.broken_at == at(24)
        evaluate_promises(s, at(40))  # the late call does not mend a broken promise
        assert broken.status == "broken" and broken.kept_at is None
        kept = s.scalar(select(Promise).join(Case).where(Case.external_id == "C2"))
        assert kept.kept_at == at(20)


def test_appointment_window_and_resolution_date(engine):
    ingest(engine, [
        event("A1", 0, "Case opened", direction="inbound", facing=True),
        event("A1", 1, "Engineer visit", direction="outbound", facing=True, team="Field"),  # before the window
        event("A1", 50, "Engineer visit", direction="outbound", facing=True, team="Field"),
        event("R1", 0, "Case opened", direction="inbound", facing=True),
        event("R1", 30, "Case closed"),
    ])
    with UnitOfWork(engine) as s:
        add_promise(s, "A1", kind="appointment", made_at=at(0.5), window_start=at(48), due_at=at(52))
        add_promise(s, "R1", kind="resolved_by", made_at=at(0.5), due_at=at(24), external_id="P-R1")
        add_promise(s, "R1", kind="resolved_by", made_at=at(0.5), due_at=at(24), external_id="P-R1")  # replay
        evaluate_promises(s, at(60))
    assert _status(engine, "A1") == [("appointment", "kept")]
    assert _status(engine, "R1") == [("resolved_by", "broken")]


def test_bad_promises_are_refused_with_the_field(engine):
    ingest(engine, [event("B1", 0, "Case opened")])
    with UnitOfWork(engine) as s:
        with pytest.raises(ValidationFailed) as info:
            add_promise(s, "B1", kind="someday", made_at=at(0), due_at="2026-03-05T10:00:00")
        fields = {f for f, _ in info.value.problems}
        assert fields == {"kind", "due_at"}
        with pytest.raises(ValidationFailed, match="due before it was made"):
            add_promise(s, "B1", kind="callback", made_at=at(5), due_at=at(1))
        with pytest.raises(NotFound):
            add_promise(s, "nope", kind="callback", made_at=at(0), due_at=at(1))
        frame = pd.DataFrame({"case_id": ["B1", "B1"], "kind": ["callback", "callback"],
                              "made_at": [at(0).isoformat(), at(0).isoformat()],
                              "due_at": [at(4).isoformat(), "tomorrow"]})
        with pytest.raises(ValidationFailed, match="row 2"):
            import_promises_csv(s, frame)
        assert import_promises_csv(s, frame.iloc[:1]) == 1
