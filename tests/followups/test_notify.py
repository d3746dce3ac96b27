"""Notifications arrive at a real SMTP server and a real HTTP receiver on loopback; a dead channel
is retried with backoff and never blocks the others or the workflow."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts, notify, service
from servicepulse.jobs.queue import run_pending
from servicepulse.models import Job
from servicepulse.models.followups import AlertRouting
from servicepulse.notify.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from tests.http_receiver import WebhookReceiver
from tests.invitations.support import configure, free_port, start_smtp, text_part

from .conftest import NOW, add_response

SECRET = "a-long-enough-webhook-secret"


@pytest.fixture
def smtp(monkeypatch):
    controller, server = start_smtp()
    configure(monkeypatch, server, base_url="http://servicepulse.test")
    monkeypatch.setenv("SERVICEPULSE_LANGUAGE", "en")  # chat messages in the organisation's language
    yield server
    controller.stop()


def test_new_and_overdue_follow_ups_reach_mail_slack_teams_and_webhook(engine, org, smtp):
    import servicepulse.followups.jobs  # noqa: F401

    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    with WebhookReceiver() as http:
        with UnitOfWork(engine) as s:
            s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
            notify.add_channel(s, "cx-mail", "email", "cx@example.org")
            notify.add_channel(s, "slack", "slack", http.base_url + "/slack")
            notify.add_channel(s, "teams", "teams", http.base_url + "/teams")
            notify.add_channel(s, "generic", "webhook", http.base_url + "/hook", secret=SECRET)
            notify.add_channel(s, "broken", "slack", dead)
            notify.add_channel(s, "team-b-only", "slack", http.base_url + "/team-b", team_id=org.team_b)
        add_response(engine, "R-1", ces=6, grade=3, why="")
        with UnitOfWork(engine) as s:
            (fid,) = alerts.evaluate_responses(s, None, NOW)
        summary = run_pending(engine, now=NOW, limit=50)
        # four deliveries and the evaluation job queued by ingestion (it finds the follow-up open already)
        assert (summary.done, summary.retried, summary.failed) == (5, 1, 0)

        paths = sorted(c["path"] for c in http.calls)
        assert paths == ["/hook", "/slack", "/teams"]  # not the team B channel
        by_path = {c["path"]: (c["headers"], c["raw"]) for c in http.calls}
        slack = json.loads(by_path["/slack"][1])
        assert f"#{fid}" in slack["text"] and "low_grade" in slack["text"] and slack["blocks"][1]["type"] == "section"
        assert f"<http://servicepulse.test/followups/{fid}|" in slack["blocks"][1]["text"]["text"]
        with UnitOfWork(engine, readonly=True) as s:  # the due time on the organisation's wall clock, not ISO UTC
            from zoneinfo import ZoneInfo

            from servicepulse.models import FollowUp
            due = s.get(FollowUp, fid).due_at.astimezone(ZoneInfo("Europe/Amsterdam"))
        assert f"Due: {due:%d-%m-%Y %H:%M} (Europe/Amsterdam)" in slack["text"] and "+00:00" not in slack["text"]
        teams = json.loads(by_path["/teams"][1])
        card = teams["attachments"][0]["content"]  # a Workflows webhook takes an Adaptive Card
        assert teams["type"] == "message" and card["type"] == "AdaptiveCard" and f"#{fid}" in card["body"][0]["text"]
        headers, body = by_path["/hook"]
        assert verify_signature(SECRET, body, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER])
        assert json.loads(body)["followup"]["url"] == f"http://servicepulse.test/followups/{fid}"
        (mail,) = smtp.inbox.wait_for(1)
        assert mail["To"] == "cx@example.org" and f"#{fid}" in mail["Subject"]
        assert f"/followups/{fid}" in text_part(mail)

        # the dead channel is retried later with backoff; the follow-up is worked meanwhile
        with UnitOfWork(engine, readonly=True) as s:
            retry = s.scalar(select(Job).where(Job.kind == notify.JOB_KIND, Job.status == "queued"))
            assert retry.payload["channel_id"] and retry.run_at > NOW and retry.attempts == 1
            assert "unreachable" in retry.last_error

        # overdue: the channels and the team lead hear of it
        with UnitOfWork(engine) as s:
            assert service.escalate_overdue(s, NOW + timedelta(days=3)) == [fid]
        run_pending(engine, now=NOW + timedelta(days=3), limit=50)
        mails = smtp.inbox.wait_for(3)
        overdue = [m for m in mails if "overdue" in m["Subject"]]
        assert sorted(m["To"] for m in overdue) == ["cx@example.org", "lead@example.org"]
        assert sum(1 for c in http.calls if c["path"] == "/slack" and b"Follow-up overdue" in c["raw"]) == 1


def test_a_reason_merged_into_an_open_follow_up_is_announced(engine, org, smtp):
    """#16 item 2: a later answer of the same customer joins their open follow-up and the channel hears of it,
    each time it happens (not only the first)."""
    import servicepulse.followups.jobs  # noqa: F401

    with WebhookReceiver() as http:
        with UnitOfWork(engine) as s:
            s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
            notify.add_channel(s, "slack", "slack", http.base_url + "/slack")
        add_response(engine, "R-1", ces=6, grade=3, why="")
        with UnitOfWork(engine) as s:
            (fid,) = alerts.evaluate_responses(s, None, NOW)
        for i, later in enumerate((timedelta(hours=2), timedelta(hours=5)), start=2):
            add_response(engine, f"R-{i}", ces=2, grade=8, why="", now=NOW + later)
            with UnitOfWork(engine) as s:
                assert alerts.evaluate_responses(s, None, NOW + later) == []  # merged: nothing new opened
        run_pending(engine, now=NOW + timedelta(hours=6), limit=50)
        texts = [json.loads(c["raw"])["text"] for c in http.calls if c["path"] == "/slack"]
        assert sum("New follow-up" in t for t in texts) == 1
        merged = [t for t in texts if "New reason on a follow-up" in t]
        assert len(merged) == 2 and all(f"#{fid}" in t for t in merged)


def test_a_channel_needs_a_valid_target(engine, org):
    from servicepulse.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        with UnitOfWork(engine) as s:
            notify.add_channel(s, "x", "pigeon", "somewhere")
    assert info.value.problems[0][0] == "kind"
    with pytest.raises(ValidationFailed, match="not an http"):
        with UnitOfWork(engine) as s:
            notify.add_channel(s, "y", "slack", "ftp://example.org")
