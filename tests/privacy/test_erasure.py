"""The Done-when test of erasure: afterwards no table holds any identifier or text of the customer, the
other customer's data stays, and the dashboard figures equal a recomputation from the raw tables."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.metrics import MetricFilter
from servicepulse.metrics.service import figures_dict, metrics, moment_view, overview
from servicepulse.models import AuditEntry, Customer, FollowUp, Job, Journey, Response, ScoreDailyCount
from servicepulse.privacy import erase_customer, export_customer
from servicepulse.responses import keep_daily_counts

from .conftest import EMAIL, EXTERNAL_ID, NOTE, TRACES, dump_all

WINDOW = MetricFilter(date_from=date(2026, 1, 1), date_to=date(2026, 4, 1))


def _figures(session, source: str):
    view = overview(session, WINDOW, source=source, min_n=1)
    moments = [(r.key, r.n, r.score.mean, r.share_7.share, r.share_9.share)
               for r in moment_view(session, _journey(session), WINDOW, source=source, min_n=1).moments]
    # groups whose delta rows cancel out (n = 0) are listed by the aggregate path only: compare the others
    segments = {str(r.key): figures_dict(r.figures)
                for r in metrics(session, WINDOW, by="segment", source=source, min_n=1) if r.figures.responses}
    journeys = {str(r.key): figures_dict(r.figures) for r in view.journeys if r.figures.responses}
    return figures_dict(view.headline), journeys, moments, segments


def _journey(session):
    return session.scalar(select(Journey.id))


def test_erasure_leaves_no_trace_and_consistent_figures(engine, subject):
    before = dump_all(engine)
    assert EXTERNAL_ID in before and NOTE in before and EMAIL in before  # the fixture holds them
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Job)) > 0

    with UnitOfWork(engine) as s:
        done = erase_customer(s, EXTERNAL_ID, "user:1", secret="test-secret")
    assert done.rows["responses"] >= 2 and done.rows["followups"] >= 3 and done.rows["cases"] >= 4
    assert done.rows["expectations"] == 3 and done.rows["invitations"] >= 3 and done.rows["customer"] == 1
    assert done.rows["jobs"] >= 3 and done.rows["verbatims"] >= 2

    after = dump_all(engine)
    found = [t for t in TRACES if t.lower() in after.lower()]
    assert not found, f"left behind: {found}"
    # the other customer's response and follow-up-free data stay
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Response.id).where(Response.external_id == "RESP-OTHER-1")) is not None
        assert s.scalar(select(Customer.id).where(Customer.external_id == "C-1")) is not None
        assert s.scalar(select(func.count()).select_from(FollowUp)) == 0
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "customer.erase"))
        assert entry.actor == "user:1" and entry.details["rows"] == done.rows
        assert entry.details["subject"] == done.subject and len(done.subject) == 32
        # the aggregate equals a recomputation: daily path (with the erasure's delta rows) = raw path
        assert s.scalar(select(func.count()).select_from(ScoreDailyCount)) > 0
        assert _figures(s, "daily") == _figures(s, "raw")
        assert figures_dict(overview(s, WINDOW, source="raw", min_n=1).headline)["responses"] == 1
    with UnitOfWork(engine) as s:
        keep_daily_counts(s)  # the fold: the deltas folded in, still the same figures
    with UnitOfWork(engine, readonly=True) as s:
        assert _figures(s, "daily") == _figures(s, "raw")

    with UnitOfWork(engine) as s, pytest.raises(NotFound):
        erase_customer(s, EXTERNAL_ID, "user:1")


def test_internal_id_accepted_when_unambiguous(engine, subject):
    with UnitOfWork(engine) as s:
        clash = Customer(external_id=str(subject.customer_id), language="nl")
        s.add(clash)
        s.flush()
        clash_id = clash.id
    if clash_id != subject.customer_id:
        with UnitOfWork(engine) as s, pytest.raises(ValidationFailed):
            erase_customer(s, str(subject.customer_id), "cli")
    with UnitOfWork(engine) as s:
        done = erase_customer(s, f"#{subject.customer_id}", "cli")
    assert done.rows["customer"] == 1
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(Customer, subject.customer_id) is None
        assert s.get(Customer, clash_id) is not None


def test_export_holds_everything_on_the_customer(engine, subject):
    from servicepulse.models import ContactPreference, TextMessage

    with UnitOfWork(engine) as s:  # what the SMS channel keeps on the customer
        s.add(ContactPreference(customer_id=subject.customer_id, preferred_channel="sms"))
        s.add(TextMessage(invitation_id=subject.invitation_id, channel="sms", provider="twilio",
                          provider_message_id="SM-EXPORT", recipient_hash="h" * 64, status="delivered"))
    with UnitOfWork(engine, readonly=True) as s:
        data = export_customer(s, EXTERNAL_ID)
    assert data["contact_preferences"]["preferred_channel"] == "sms"
    [message] = data["invitations"][0]["text_messages"]
    assert message["provider_message_id"] == "SM-EXPORT" and "recipient_hash" not in message
    assert data["followups"][0]["reasons"] and all(r["rule"] for r in data["followups"][0]["reasons"])
    assert data["customer"]["external_id"] == EXTERNAL_ID and data["customer"]["email"] == EMAIL
    assert sorted(r["external_id"] for r in data["responses"]) == ["RESP-ERASE-1", "RESP-ERASE-2"]
    assert all(r["answers"] for r in data["responses"])
    assert [c["external_id"] for c in data["cases"]] == ["CASE-ERASE-7731"]
    case = data["cases"][0]
    assert len(case["events"]) == 3 and case["promises"][0]["external_id"] == "PROMISE-ERASE"
    assert case["signals"] and case["forecasts"]
    assert data["followups"][0]["id"] == subject.followup_id
    assert data["followups"][0]["contacts"][0]["note"] == NOTE and data["followups"][0]["gestures"]
    assert data["invitations"][0]["id"] == subject.invitation_id and "token_hash" not in data["invitations"][0]
    json.dumps(data)  # plain JSON
