"""The signed response webhook, delivered by the job worker to a real HTTP receiver on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.jobs import run_pending
from servicepulse.models import Job
from servicepulse.notify import webhooks
from servicepulse.responses import service, webhooks_out
from tests.http_receiver import WebhookReceiver

from .conftest import response

SECRET = "receiver-shared-secret-0123456789"
T0 = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def Receiver(fail_first: int = 0) -> WebhookReceiver:
    return WebhookReceiver(SECRET, fail_first=fail_first)


def jobs(engine):
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.kind == webhooks_out.JOB_KIND).order_by(Job.id)).all()


def submit(engine, payload):
    with UnitOfWork(engine) as s:
        return service.ingest(s, payload, now=T0)


def add_endpoint(engine, url):
    with UnitOfWork(engine) as s:
        webhooks_out.add_endpoint(s, "crm", url, SECRET)


def test_signed_delivery_to_a_real_receiver(engine, world):
    with Receiver() as receiver:
        add_endpoint(engine, receiver.url)
        stored = submit(engine, [response("R-1", case="K-1"), response("R-2")])
        submit(engine, response("R-1", case="K-1"))  # a replay is not news: no second delivery
        assert len(jobs(engine)) == 2
        summary = run_pending(engine, now=T0, limit=10)
    assert summary.failed == 0 and summary.done >= 2  # other domains may queue their own jobs per response
    assert all(call["valid"] for call in receiver.calls)
    bodies = sorted((c["body"] for c in receiver.calls), key=lambda b: b["response"]["external_id"])
    assert [b["event"] for b in bodies] == ["response.created"] * 2
    assert bodies[0]["response"] == stored.resources[0]
    assert {j.status for j in jobs(engine)} == {"done"}


def test_failing_receiver_is_retried_with_backoff_and_never_blocks_ingestion(engine, world):
    """The receiver fails every delivery twice, then accepts it."""
    with Receiver(fail_first=2) as receiver:
        add_endpoint(engine, receiver.url)
        submit(engine, response("R-1"))
        assert run_pending(engine, now=T0).retried == 1
        first_retry_at = jobs(engine)[0].run_at
        assert first_retry_at > T0
        assert run_pending(engine, now=T0 + timedelta(seconds=1)).claimed == 0  # not due yet
        submit(engine, response("R-2"))  # ingestion goes on while deliveries wait
        assert run_pending(engine, now=first_retry_at).retried == 2
        second_retry_at = jobs(engine)[0].run_at
        assert second_retry_at - first_retry_at > first_retry_at - T0  # the wait grows
        now = second_retry_at
        for _ in range(3):
            run_pending(engine, now=now)
            now += timedelta(hours=1)
    rows = jobs(engine)
    assert [(j.status, j.attempts) for j in rows] == [("done", 3), ("done", 3)]
    r1 = [c for c in receiver.calls if c["body"]["response"]["external_id"] == "R-1"]
    assert len(r1) == 3 and len({c["delivery"] for c in r1}) == 1  # same delivery id on every try
    assert all(c["valid"] for c in receiver.calls)


def test_unreachable_receiver_is_retried(engine, world):
    with Receiver() as receiver:
        url = receiver.url
    add_endpoint(engine, url)  # the server is gone: connection refused
    submit(engine, response("R-1"))
    assert run_pending(engine, now=T0).retried == 1
    assert "unreachable" in jobs(engine)[0].last_error


def test_no_endpoints_no_jobs_and_endpoint_validation(engine, world):
    submit(engine, response("R-1"))
    assert jobs(engine) == []
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed, match="not an http"):
        webhooks_out.add_endpoint(s, "x", "ftp://example.org/")


def test_verify_signature_helper_rejects_tampering_and_old_timestamps():
    body = b'{"event":"response.created"}'
    now = 1_780_000_000
    signature = webhooks.sign(SECRET, now, body)
    assert webhooks.verify_signature(SECRET, body, str(now), signature, now=now + 10)
    assert not webhooks.verify_signature(SECRET, body + b" ", str(now), signature, now=now)
    assert not webhooks.verify_signature(SECRET, body, str(now), signature, now=now + 301)
    assert not webhooks.verify_signature("other-secret-000000000", body, str(now), signature, now=now)
