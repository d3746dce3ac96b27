"""Signals and escalations reach Slack and Microsoft Teams incoming webhooks (real HTTP receivers on loopback):
the documented body shapes, a deep link to the page that needs action, the organisation's language, one
message per signal or escalation and channel however often the jobs run, and only the channels of the
team concerned."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations.signals import run_signals
from servicepulse.followups import alerts, notify, service
from servicepulse.jobs.queue import run_pending
from servicepulse.models import OrgUnit
from servicepulse.models.expectations import SignalRule
from servicepulse.models.followups import AlertRouting
from servicepulse.notify.chat import ADAPTIVE_CARD, ChatMessage, chat_payload, slack_escape
from servicepulse.settings import get_settings
from tests.expectations.helpers import at, event, ingest
from tests.followups.conftest import NOW, add_response, build_org
from tests.http_receiver import WebhookReceiver

BASE = "http://servicepulse.test"


@pytest.fixture
def settings_for_chat(monkeypatch):
    def apply(language: str):
        monkeypatch.setenv("SERVICEPULSE_BASE_URL", BASE)
        monkeypatch.setenv("SERVICEPULSE_LANGUAGE", language)
        get_settings.cache_clear()
    yield apply
    get_settings.cache_clear()


def bodies(receiver: WebhookReceiver, path: str) -> list[dict]:
    return [c["body"] for c in receiver.calls if c["path"] == path]


def assert_slack_shape(body: dict) -> str:
    """Slack's incoming webhook: text (the notification fallback) and Block Kit blocks; returns the mrkdwn body."""
    assert set(body) == {"text", "blocks"} and isinstance(body["text"], str) and body["text"]
    header, section = body["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text" and len(header["text"]["text"]) <= 150
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    return section["text"]["text"]


def assert_teams_shape(body: dict) -> dict:
    """A Teams Workflows webhook: a message with exactly one Adaptive Card attachment; returns the card."""
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert all(block["type"] == "TextBlock" and block["wrap"] for block in card["body"])
    return card


def test_slack_text_is_escaped_and_the_link_kept():
    message = ChatMessage("A & B", ["<script> & co"], link="http://x.test/a?b=1&c=2", link_label="Open <it>")
    body = chat_payload("slack", message)
    section = body["blocks"][1]["text"]["text"]
    assert "&lt;script&gt; &amp; co" in section and "<script>" not in section
    assert "<http://x.test/a?b=1&c=2|Open &lt;it&gt;>" in section
    teams = chat_payload("teams", message)["attachments"][0]["content"]
    assert teams["body"][1]["text"] == "<script> & co"  # Adaptive Card TextBlocks are not HTML
    assert teams["actions"] == [{"type": "Action.OpenUrl", "title": "Open <it>", "url": "http://x.test/a?b=1&c=2"}]
    assert slack_escape("a<b>&") == "a&lt;b&gt;&amp;"
    with pytest.raises(ValueError):
        chat_payload("pigeon", message)
    assert chat_payload("teams", message)["attachments"][0]["contentType"] == ADAPTIVE_CARD


def test_signals_reach_slack_and_teams_once_in_the_organisations_language(engine, settings_for_chat):
    settings_for_chat("nl")
    ingest(engine, [event("N/1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
                    event("N/1", 3, "Customer calls", direction="inbound", facing=True, team="Front office"),
                    event("Q2", 0, "Customer calls", direction="inbound", facing=True, team="Back office"),
                    event("Q2", 3, "Customer calls", direction="inbound", facing=True, team="Back office")])
    with WebhookReceiver() as http:
        with UnitOfWork(engine) as s:
            front = s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Front office"))
            notify.add_channel(s, "all-slack", "slack", http.base_url + "/slack")
            notify.add_channel(s, "all-teams", "teams", http.base_url + "/teams")
            notify.add_channel(s, "front-teams", "teams", http.base_url + "/front", team_id=front)
            notify.add_channel(s, "mail", "email", "cx@example.org")  # chat only: no mail job for signals
            quiet = SignalRule(key="repeat_quiet", kind="repeat_contact", params={"hours": 24})
            loud = SignalRule(key="repeat_loud", kind="repeat_contact", params={"hours": 24}, notify_webhooks=True)
            s.add_all([quiet, loud])
            s.flush()
            assert len(run_signals(s, at(4), rules=[quiet])) == 2  # a rule that asks for no webhooks: no chat
        assert run_pending(engine, now=at(4)).claimed == 0
        with UnitOfWork(engine) as s:
            assert len(run_signals(s, at(4), rules=[s.get(SignalRule, loud.id)])) == 2
        with UnitOfWork(engine) as s:  # a second run finds the same causes: nothing new, nothing announced
            assert run_signals(s, at(5), rules=[s.get(SignalRule, loud.id)]) == []
        summary = run_pending(engine, now=at(5))
        assert (summary.claimed, summary.done) == (5, 5)  # 2 signals x 2 org-wide channels + N/1 to the front
        assert run_pending(engine, now=at(6)).claimed == 0

        slack = bodies(http, "/slack")
        assert len(slack) == 2
        by_case = {}
        for body in slack:
            text = assert_slack_shape(body)
            assert "Klant nam twee keer contact op binnen een dag" in body["text"]  # Dutch: the organisation's
            assert "Customer contacted" not in body["text"]
            by_case["N/1" if "N/1" in text else "Q2"] = text
        assert f"<{BASE}/expectations/cases/{quote('N/1', safe='')}|Dossier openen>" in by_case["N/1"]
        assert "Team: Front office" in by_case["N/1"] and "Team: Back office" in by_case["Q2"]
        teams = bodies(http, "/teams")
        assert len(teams) == 2
        for body in teams:
            card = assert_teams_shape(body)
            (action,) = card["actions"]
            assert action["type"] == "Action.OpenUrl" and action["url"].startswith(f"{BASE}/expectations/cases/")
            assert card["body"][0]["text"] == "Klant nam twee keer contact op binnen een dag"
        (front_only,) = bodies(http, "/front")  # the front office's channel hears of its own case only
        assert assert_teams_shape(front_only)["actions"][0]["url"] == f"{BASE}/expectations/cases/N%2F1"
        assert all(c["headers"].get("X-Servicepulse-Event") == "signal.raised" for c in http.calls)


def test_escalations_reach_slack_and_teams_once_with_a_link_to_the_follow_up(engine, settings_for_chat):
    settings_for_chat("en")
    org = build_org(engine)
    with WebhookReceiver(fail_first=1) as http:  # each delivery's first try is refused: the queue retries
        with UnitOfWork(engine) as s:
            s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
            notify.add_channel(s, "slack", "slack", http.base_url + "/slack")
            notify.add_channel(s, "teams", "teams", http.base_url + "/teams")
            notify.add_channel(s, "team-b", "slack", http.base_url + "/team-b", team_id=org.team_b)
        add_response(engine, "R-1", ces=6, grade=3, why="")
        with UnitOfWork(engine) as s:
            (fid,) = alerts.evaluate_responses(s, None, NOW)
        later = NOW + timedelta(days=3)
        for _ in range(2):  # the escalation job runs twice: the follow-up is escalated (and announced) once
            with UnitOfWork(engine) as s:
                service.escalate_overdue(s, later)
        for step in range(4):
            run_pending(engine, now=later + timedelta(hours=step), limit=50)
        overdue = [c for c in http.calls if c["body"] and "overdue" in json.dumps(c["body"])]
        delivered = [c for c in overdue if c["try"] > 1]  # the receiver answered 503 to each first try
        assert sorted(c["path"] for c in delivered) == ["/slack", "/teams"]  # not team B's channel
        slack = next(c["body"] for c in delivered if c["path"] == "/slack")
        text = assert_slack_shape(slack)
        assert slack["blocks"][0]["text"]["text"] == f"Follow-up overdue #{fid}"
        assert f"<{BASE}/followups/{fid}|Open the follow-up>" in text and "Team: Team A" in text
        card = assert_teams_shape(next(c["body"] for c in delivered if c["path"] == "/teams"))
        assert card["body"][0]["text"] == f"Follow-up overdue #{fid}" and card["body"][0]["color"] == "Attention"
        assert card["actions"][0]["url"] == f"{BASE}/followups/{fid}"
        assert len({c["delivery"] for c in overdue}) == 2  # one delivery per channel, retried under its id
