"""Signals with a controllable clock: each cause fires once; notifications by real SMTP and HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations import notify  # noqa: F401  (registers the job handlers)
from servicepulse.expectations.promises import add_promise, recognise_promises
from servicepulse.expectations.signals import ensure_default_rules, run_signals, team_work_list
from servicepulse.jobs.queue import run_pending
from servicepulse.models import Case, OrgUnit
from servicepulse.models.expectations import ForecastSnapshot, Signal, SignalRule
from servicepulse.responses.webhooks_out import add_endpoint

from ..http_receiver import WebhookReceiver
from ..invitations.support import configure, start_smtp
from .helpers import at, event, ingest

SECRET = "signal-receiver-secret-0123456789"


def fired(engine) -> list[tuple[str, str, str]]:
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(SignalRule.key, Case.external_id, Signal.cause_key)
                         .join(SignalRule, SignalRule.id == Signal.rule_id).join(Case, Case.id == Signal.case_id)
                         .order_by(Signal.id)).all()
    return [tuple(r) for r in rows]


def run(engine, hours: float) -> list[str]:
    with UnitOfWork(engine) as s:
        return [f"{s.get(SignalRule, x.rule_id).key}" for x in run_signals(s, at(hours))]


def test_each_rule_fires_once_per_cause(engine):
    ingest(engine, [
        event("DARK", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
        event("DARK", 1, "Handed to back office", team="Front office"),
        event("DARK", 61, "Status update", direction="outbound", facing=True, team="Back office"),
        event("PROM", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
        event("PROM", 0.2, "Call-back promised", team="Back office", due_at=at(24).isoformat()),
        event("REOP", 0, "Customer writes", direction="inbound", facing=True, team="Front office"),
        event("REOP", 5, "Case closed", team="Front office"),
        event("REOP", 10, "Customer contacts again", direction="inbound", facing=True, team="Front office"),
        event("FORE", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
    ])
    with UnitOfWork(engine) as s:
        recognise_promises(s)
        ensure_default_rules(s)
        promise = add_promise(s, "FORE", kind="resolved_by", made_at=at(0.5), due_at=at(200))
        s.add(ForecastSnapshot(case_id=promise.case_id, made_at=at(0.5), anchor_at=at(0), remaining_s=900000.0,
                               lower_s=400000.0, upper_s=1500000.0, expected_at=at(250), upper_at=at(416),
                               promise_at=at(420)))
    assert sorted(run(engine, 0.6)) == ["forecast_after_promise"]
    assert sorted(run(engine, 11)) == ["reopened", "repeat_contact"]  # REOP: closed, then contacted twice in 24h
    assert run(engine, 12) == []
    assert run(engine, 21) == ["promise_due_soon"]  # due at 24, within 4 hours
    assert run(engine, 22) == []
    assert run(engine, 47) == []  # DARK has been silent 46 hours; REOP since the reopening at 10
    assert sorted(run(engine, 49.5)) == ["dark_too_long"] * 3  # DARK, PROM, FORE: silent since hour 0
    assert run(engine, 58.5) == ["dark_too_long"]  # REOP: silent since its reopening at hour 10
    assert run(engine, 100) == []  # DARK had news at 61: 39 hours only
    assert run(engine, 110) == ["dark_too_long"]  # a new silence is a new cause
    causes = fired(engine)
    assert len(causes) == len(set(causes))
    assert ("dark_too_long", "DARK", "dark:2026-03-02T09:00:00Z") in causes
    with UnitOfWork(engine, readonly=True) as s:
        back = s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Back office"))
        listed = {s.get(Case, x.case_id).external_id for x in team_work_list(s, back)}
        assert {"DARK", "PROM"} <= listed and "REOP" not in listed
    with pytest.raises(IntegrityError):  # the database itself refuses a second firing
        with UnitOfWork(engine) as s:
            first = s.scalar(select(Signal).order_by(Signal.id))
            s.add(Signal(rule_id=first.rule_id, case_id=first.case_id, cause_key=first.cause_key, fired_at=at(200)))
            s.flush()


def test_signal_notified_by_mail_and_signed_webhook_once(engine, monkeypatch):
    controller, smtp = start_smtp()
    receiver = WebhookReceiver(SECRET).__enter__()
    try:
        configure(monkeypatch, smtp)
        ingest(engine, [event("N1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
                        event("N1", 3, "Customer calls", direction="inbound", facing=True, team="Front office")])
        with UnitOfWork(engine) as s:
            add_endpoint(s, "ops", receiver.url, secret=SECRET)
            rule = SignalRule(key="repeat_notify", kind="repeat_contact", params={"hours": 24},
                              notify_emails=["teamlead@example.nl"], notify_webhooks=True)
            s.add(rule)
            s.flush()
            assert len(run_signals(s, at(4), rules=[rule])) == 1
        with UnitOfWork(engine) as s:
            assert run_signals(s, at(5), rules=[s.get(SignalRule, rule.id)]) == []
        summary = run_pending(engine, now=at(5))
        assert (summary.claimed, summary.done) == (2, 2)
        mail = smtp.inbox.wait_for(1)
        assert len(mail) == 1 and "N1" in mail[0]["Subject"] and mail[0]["To"] == "teamlead@example.nl"
        assert len(receiver.calls) == 1 and receiver.calls[0]["valid"]
        assert receiver.calls[0]["event"] == "signal.raised"
        assert receiver.calls[0]["body"]["signal"]["case"] == "N1"
        assert run_pending(engine, now=at(6)).claimed == 0
    finally:
        controller.stop()
        receiver.__exit__(None, None, None)


def test_periodic_run_through_the_job_queue(engine):
    from servicepulse.expectations.jobs import schedule_runs

    ingest(engine, [event("Q1", 0, "Customer calls", direction="inbound", facing=True, team="Front office")])
    with UnitOfWork(engine) as s:
        schedule_runs(s, at(49), every_minutes=60)
    assert run_pending(engine, now=at(49)).done == 1
    assert [c[:2] for c in fired(engine)] == [("dark_too_long", "Q1")]
    assert run_pending(engine, now=at(49.5)).claimed == 0  # the next run waits for its slot
    assert run_pending(engine, now=at(50)).done == 1
    assert len(fired(engine)) == 1  # same silence, same cause: no second signal
