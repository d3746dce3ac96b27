"""WhatsApp invitations through the Business Cloud API (approved templates), against a loopback Graph API that
checks every request (tests/invitations/sms_fakes.py), on both databases: the template message, the webhook
handshake, signed status webhooks (403 on a bad signature), STOP replies, refusals and retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import service
from servicepulse.models import ContactPreference, Invitation, Job, TextMessage, TriggerDecision
from servicepulse.settings import get_settings

from .sms_fakes import FakeWhatsApp
from .test_sms import T0, _case, _drain, _world

VERIFY_TOKEN = "verify-me-please"


@pytest.fixture
def whatsapp(monkeypatch, smtp):
    fake = FakeWhatsApp("106540352242922", "EAAG-whatsapp-token", "whatsapp-app-secret")
    with fake:
        monkeypatch.setenv("SERVICEPULSE_WHATSAPP_PHONE_NUMBER_ID", fake.phone_number_id)
        monkeypatch.setenv("SERVICEPULSE_WHATSAPP_ACCESS_TOKEN", fake.access_token)
        monkeypatch.setenv("SERVICEPULSE_WHATSAPP_APP_SECRET", fake.app_secret)
        monkeypatch.setenv("SERVICEPULSE_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        monkeypatch.setenv("SERVICEPULSE_WHATSAPP_API_URL", f"{fake.base_url}/v21.0")
        get_settings.cache_clear()
        yield fake
        assert fake.problems == [], f"requests that break the Cloud API's documented format: {fake.problems}"
    get_settings.cache_clear()


def _client(engine):
    return TestClient(create_app(engine, get_settings()))


def test_the_invitation_is_an_approved_template_with_the_link_in_its_button(engine, whatsapp, smtp):
    _world(engine, email="sanne@example.nl", preferred="whatsapp")
    _case(engine, "K1", T0)
    _drain(engine, T0)
    [call] = whatsapp.accepted
    body = call["json"]
    assert body["to"] == "31612345678" and body["type"] == "template"
    assert body["template"]["name"] == "survey_invitation" and body["template"]["language"] == {"code": "nl"}
    components = {c["type"]: c for c in body["template"]["components"]}
    assert components["body"]["parameters"] == [{"type": "text", "text": "Glasvezel Noord"}]
    token = components["button"]["parameters"][0]["text"]
    assert smtp.inbox.messages == []
    with UnitOfWork(engine, readonly=True) as s:
        invitation = service.resolve(s, token, T0 + timedelta(minutes=1))
        assert invitation.channel == "whatsapp" and invitation.status == "sent"
        message = s.scalar(select(TextMessage))
        assert message.provider == "whatsapp" and message.provider_message_id == call["wamid"]

    _drain(engine, T0 + timedelta(days=3))  # the reminder: the other approved template
    assert [c["json"]["template"]["name"] for c in whatsapp.accepted] == ["survey_invitation", "survey_reminder"]


def test_the_webhook_handshake_answers_only_with_our_verify_token(engine, whatsapp):
    client = _client(engine)
    ok = client.get("/api/v1/messaging/whatsapp",
                    params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.text == "1158201444"
    wrong = client.get("/api/v1/messaging/whatsapp",
                       params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403 and wrong.headers["content-type"].startswith("application/problem+json")


def test_status_webhooks_are_signed_and_a_failed_message_fails_the_invitation(engine, whatsapp):
    _world(engine, preferred="whatsapp")
    _case(engine, "K1", T0)
    _drain(engine, T0)
    wamid = whatsapp.accepted[0]["wamid"]
    client = _client(engine)
    body, headers = whatsapp.status_webhook(wamid, "failed", error_code=131026)
    tampered = body.replace(b'"failed"', b'"read"')
    assert client.post("/api/v1/messaging/whatsapp", content=tampered, headers=headers).status_code == 403
    assert client.post("/api/v1/messaging/whatsapp", content=body,
                       headers={"Content-Type": "application/json"}).status_code == 403
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TextMessage.status)) == "queued"
    assert client.post("/api/v1/messaging/whatsapp", content=body, headers=headers).status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        message = s.scalar(select(TextMessage))
        assert (message.status, message.error_code) == ("failed", "131026")
        assert s.scalar(select(Invitation.status)) == "failed"
    # Delivered after all (a second device): the invitation counts again.
    body, headers = whatsapp.status_webhook(wamid, "delivered")
    assert client.post("/api/v1/messaging/whatsapp", content=body, headers=headers).status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TextMessage.status)) == "delivered"
        assert s.scalar(select(Invitation.status)) == "sent"


def test_a_stop_button_stops_whatsapp_and_the_next_invitation_goes_by_email(engine, whatsapp, smtp):
    _world(engine, email="sanne@example.nl", preferred="whatsapp", rule={"throttle_days": 0})
    _case(engine, "K1", T0)
    _drain(engine, T0)
    client = _client(engine)
    body, headers = whatsapp.reply_webhook("31612345678", "STOP", button=True)
    assert client.post("/api/v1/messaging/whatsapp", content=body, headers=headers).status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        preference = s.scalar(select(ContactPreference))
        assert preference.whatsapp_opted_out_at is not None and preference.sms_opted_out_at is None
    _case(engine, "K2", T0 + timedelta(hours=3))
    _drain(engine, T0 + timedelta(hours=3))
    assert len(whatsapp.accepted) == 1
    [mail] = smtp.inbox.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "sanne@example.nl"


def test_refusals_and_retries(engine, whatsapp, monkeypatch):
    # Throttled (429) and down (503): retried until the API accepts.
    _world(engine, preferred="whatsapp", rule={"throttle_days": 0})
    whatsapp.fail_next = [(429, {}), (503, {})]
    _case(engine, "K1", T0)
    _drain(engine, T0)
    _drain(engine, T0 + timedelta(minutes=10))
    _drain(engine, T0 + timedelta(minutes=30))
    assert len(whatsapp.calls) == 3 and len(whatsapp.accepted) == 1

    # A template Meta does not know: no retry, the invitation fails.
    monkeypatch.setenv("SERVICEPULSE_WHATSAPP_TEMPLATE_INVITATION", "not_approved")
    get_settings.cache_clear()
    _case(engine, "K2", T0 + timedelta(hours=1))
    _drain(engine, T0 + timedelta(hours=1))
    assert len(whatsapp.calls) == 4
    monkeypatch.delenv("SERVICEPULSE_WHATSAPP_TEMPLATE_INVITATION")
    get_settings.cache_clear()

    # The customer stopped marketing messages at WhatsApp (131050): recorded as their STOP on WhatsApp.
    whatsapp.stopped_marketing.add("31612345678")
    _case(engine, "K3", T0 + timedelta(hours=2))
    _drain(engine, T0 + timedelta(hours=2))
    assert len(whatsapp.calls) == 5
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalars(select(Invitation.status))) == ["cancelled", "failed", "sent"]
        assert s.scalar(select(ContactPreference.whatsapp_opted_out_at)) is not None
        errors = " ".join(e or "" for e in s.scalars(select(Job.last_error)))
        assert "612345678" not in errors
    _case(engine, "K4", T0 + timedelta(hours=3))
    _drain(engine, T0 + timedelta(hours=3))
    assert len(whatsapp.calls) == 5
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TriggerDecision.reason).order_by(TriggerDecision.id.desc()).limit(1)) == "opted_out"


def test_a_signed_body_of_another_shape_changes_nothing_and_is_no_error(engine, whatsapp):
    client = _client(engine)
    for body in (b"[1, 2]", b'{"entry": ["x", {"changes": [{"value": {"statuses": ["y"], "messages": [3]}}]}]}',
                 b"not json"):
        answer = client.post("/api/v1/messaging/whatsapp", content=body, headers=whatsapp.signed(body))
        assert answer.status_code == 200, body
