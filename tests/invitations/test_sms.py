"""SMS invitations end to end through the job worker, against loopback Twilio and MessageBird servers that
check every request against the provider's documented format (tests/invitations/sms_fakes.py), on both
databases: sending, failures and retries, signed delivery reports (403 on a bad signature), STOP replies,
the preferred channel, one throttling clock with e-mail, links that fit one SMS, erasure."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import on_events, rules, service
from servicepulse.invitations.tokens import keyed_hash
from servicepulse.jobs import run_pending
from servicepulse.models import (
    ContactPreference,
    Customer,
    Invitation,
    Job,
    TextMessage,
    TriggerDecision,
    utcnow,
)
from servicepulse.privacy import erase_customer
from servicepulse.settings import get_settings

from .sms_fakes import FakeMessageBird, FakeTwilio, septets
from .support import add_case, add_customer, seed_world

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)
PHONE = "+31612345678"
BASE = "http://survey.test"
SECRET = "test-secret-key-for-invitations"


def _drain(engine, now):
    total = 0
    while (claimed := run_pending(engine, now=now, limit=50).claimed):
        total += claimed
    return total


@pytest.fixture(params=["twilio", "messagebird"])
def provider(request, monkeypatch, smtp):
    """A loopback SMS provider; the settings point at it (and at the loopback SMTP server for e-mail)."""
    monkeypatch.setenv("SERVICEPULSE_SMS_PROVIDER", request.param)
    monkeypatch.setenv("SERVICEPULSE_SMS_SENDER", "GlasvezelN")
    if request.param == "twilio":
        fake = FakeTwilio("AC" + "1" * 32, "twilio-auth-token")
        monkeypatch.setenv("SERVICEPULSE_TWILIO_ACCOUNT_SID", fake.account_sid)
        monkeypatch.setenv("SERVICEPULSE_TWILIO_AUTH_TOKEN", fake.auth_token)
        monkeypatch.setenv("SERVICEPULSE_TWILIO_API_URL", "")  # set below, once the server has its port
    else:
        fake = FakeMessageBird("live_messagebird_key", "messagebird-signing-key")
        monkeypatch.setenv("SERVICEPULSE_MESSAGEBIRD_ACCESS_KEY", fake.access_key)
        monkeypatch.setenv("SERVICEPULSE_MESSAGEBIRD_SIGNING_KEY", fake.signing_key)
    with fake:
        monkeypatch.setenv(f"SERVICEPULSE_{request.param.upper()}_API_URL", fake.base_url)
        get_settings.cache_clear()
        fake.name = request.param
        yield fake
        assert fake.problems == [], f"requests that break {request.param}'s documented format: {fake.problems}"
    get_settings.cache_clear()


def _world(engine, phone="06 12345678", email=None, preferred=None, rule=None):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        rules.upsert_rule(s, {"key": "contact_closed", "survey": "after_contact", "journey": "service",
                              "activity": "Contact closed", "delay": 0, "reminder_after_days": 3} | (rule or {}))
        customer = add_customer(s, "C1", email=email, language="nl")
        customer.phone = phone
        if preferred:
            s.add(ContactPreference(customer_id=customer.id, preferred_channel=preferred, updated_at=T0))
        s.flush()
        return world["journey"].id, customer.id


def _case(engine, key, at):
    with UnitOfWork(engine) as s:
        from servicepulse.models import Journey

        journey = s.scalar(select(Journey).where(Journey.key == "service"))
        customer = s.scalar(select(Customer).where(Customer.external_id == "C1"))
        case = add_case(s, key, customer, journey, [("Contact closed", at)], closed_at=at)
        on_events(s, [case.id], now=at)


def _sent_texts(provider) -> list[str]:
    if provider.name == "twilio":
        return [c["form"]["Body"] for c in provider.accepted]
    return [c["json"]["body"] for c in provider.accepted]


def _message_id(provider, index=-1) -> str:
    call = provider.accepted[index]
    return call.get("sid") or call.get("id")


def _client(engine):
    return TestClient(create_app(engine, get_settings()))


def _report(client, provider, message_id, status, error_code=None):
    """The provider's signed delivery report, sent to our public callback route."""
    if provider.name == "twilio":
        form, headers = provider.status_callback(message_id, status, error_code)
        return client.post("/api/v1/messaging/twilio/status", content=urlencode(form), headers=headers)
    url, headers = provider.status_report(message_id, status, error_code)
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", headers=headers)


def _reply(client, provider, sender, text):
    if provider.name == "twilio":
        url = f"{BASE}/api/v1/messaging/twilio/inbound"
        form, headers = provider.incoming(url, sender, text)
        return client.post("/api/v1/messaging/twilio/inbound", content=urlencode(form), headers=headers)
    from .sms_fakes import messagebird_jwt

    query = urlencode({"id": "mo-1", "recipient": "3197010000000", "originator": sender.lstrip("+"), "body": text})
    url = f"{BASE}/api/v1/messaging/messagebird/inbound?{query}"
    return client.get(f"/api/v1/messaging/messagebird/inbound?{query}",
                      headers={"MessageBird-Signature-JWT": messagebird_jwt(provider.signing_key, url)})


def test_a_case_event_leads_to_an_sms_with_a_link_that_fits_one_message(engine, provider, smtp):
    _world(engine)
    _case(engine, "K1", T0)
    _drain(engine, T0)

    [call] = provider.accepted
    if provider.name == "twilio":
        assert call["form"]["To"] == PHONE and call["form"]["From"] == "GlasvezelN"
        assert call["form"]["StatusCallback"] == f"{BASE}/api/v1/messaging/twilio/status"
    else:
        assert call["json"]["recipients"] == ["31612345678"] and call["json"]["originator"] == "GlasvezelN"
        assert call["json"]["reportUrl"] == f"{BASE}/api/v1/messaging/messagebird/status"
    [text] = _sent_texts(provider)
    assert septets(text) is not None and septets(text) <= 160, text  # one GSM-7 message, link included
    assert "STOP" in text and "Glasvezel Noord" in text
    token = text.split(f"{BASE}/s/")[1].split()[0]
    assert len(token) == 22  # 128 bits
    assert smtp.inbox.messages == []  # the customer has no e-mail address: SMS only

    with UnitOfWork(engine, readonly=True) as s:
        invitation = service.resolve(s, token, T0 + timedelta(minutes=1))
        assert invitation.channel == "sms" and invitation.status == "sent"
        [message] = s.scalars(select(TextMessage)).all()
        assert message.provider == provider.name and message.provider_message_id == _message_id(provider)
        assert message.status == "queued" and message.parts == 1 and message.purpose == "invitation"
        # The number is nowhere in our tables or job payloads, only as a keyed hash.
        assert message.recipient_hash == keyed_hash(SECRET, PHONE)
        stored = " ".join(str(p) for p in s.scalars(select(Job.payload))) + " ".join(
            str(e) for e in s.scalars(select(Job.last_error)))
        assert "612345678" not in stored and token not in stored


def test_a_long_base_url_still_gives_one_sms(engine, provider, monkeypatch):
    long_base = "https://klanttevredenheid.woningcorporatie-noordoost-nederland.example"
    monkeypatch.setenv("SERVICEPULSE_BASE_URL", long_base)
    monkeypatch.setenv("SERVICEPULSE_ORGANISATION_NAME", "Woningcorporatie Noordoost-Nederland Wonen & Leven")
    get_settings.cache_clear()
    _world(engine)
    _case(engine, "K1", T0)
    _drain(engine, T0)
    [text] = _sent_texts(provider)
    assert f"{long_base}/s/" in text and "STOP" in text
    assert septets(text) is not None and septets(text) <= 160, (septets(text), text)


def test_provider_outages_are_retried_and_a_refused_number_fails_the_invitation(engine, provider):
    _world(engine)
    provider.fail_next = [(503, {}), (429, {"Retry-After": "1"})]
    _case(engine, "K1", T0)
    _drain(engine, T0)
    assert len(provider.calls) == 1 and provider.accepted == []
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Invitation.status)) == "scheduled"
        error = s.scalar(select(Job.last_error).where(Job.kind == "invitations.send"))
        assert "503" in error and "612345678" not in error
    _drain(engine, T0 + timedelta(minutes=10))  # the retry after the back-off: 429
    _drain(engine, T0 + timedelta(minutes=30))  # and again: accepted
    assert len(provider.calls) == 3 and len(provider.accepted) == 1
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Invitation.status)) == "sent"
        assert s.scalar(select(func.count()).select_from(TextMessage)) == 1

    # A number the provider calls invalid: no retry, the invitation fails (and so does not throttle).
    provider.invalid.add(PHONE if provider.name == "twilio" else PHONE.lstrip("+"))
    with UnitOfWork(engine) as s:
        s.scalar(select(Customer)).phone = PHONE
        s.execute(select(Invitation)).scalar().status = "responded"
        rules.upsert_rule(s, {"key": "second", "survey": "after_contact", "activity": "Contact closed",
                              "delay": 0, "throttle_days": 0})
    _case(engine, "K2", T0 + timedelta(hours=1))
    _drain(engine, T0 + timedelta(hours=1))
    assert len(provider.calls) == 4
    with UnitOfWork(engine, readonly=True) as s:
        statuses = sorted(s.scalars(select(Invitation.status)))
        assert statuses == ["failed", "responded"]


def test_delivery_reports_are_signed_and_an_undelivered_sms_frees_the_throttle(engine, provider, smtp):
    _world(engine, email="sanne@example.nl", preferred="sms", rule={"throttle_days": 30})
    _case(engine, "K1", T0)
    _drain(engine, T0)
    message_id = _message_id(provider)
    client = _client(engine)

    # A report with a wrong signature changes nothing and gets a 4xx.
    if provider.name == "twilio":
        form, headers = provider.status_callback(message_id, "delivered")
        bad = client.post("/api/v1/messaging/twilio/status", content=urlencode(form),
                          headers=headers | {"X-Twilio-Signature": "AAAA" + headers["X-Twilio-Signature"][4:]})
    else:
        url, headers = provider.status_report(message_id, "delivered")
        parts = urlsplit(url)
        bad = client.get(f"{parts.path}?{parts.query.replace('delivered', 'delivery_failed')}", headers=headers)
    assert bad.status_code == 403
    unsigned = client.post(f"/api/v1/messaging/{provider.name}/status", content=b"MessageSid=x&MessageStatus=failed",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 403
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TextMessage.status)) == "queued"

    # The provider says: undeliverable. The invitation failed, so it does not hold back the next one.
    failed = "undelivered" if provider.name == "twilio" else "delivery_failed"
    assert _report(client, provider, message_id, failed, "30003" if provider.name == "twilio" else "1").status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TextMessage.status)) == "failed"
        assert s.scalar(select(Invitation.status)) == "failed"
    _case(engine, "K2", T0 + timedelta(hours=2))
    _drain(engine, T0 + timedelta(hours=2))
    assert len(provider.accepted) == 2
    # Delivered: the next case within the throttle window invites nobody, on any channel.
    assert _report(client, provider, _message_id(provider), "delivered").status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalars(select(TextMessage.status))) == ["delivered", "failed"]
    _case(engine, "K3", T0 + timedelta(days=2))
    _drain(engine, T0 + timedelta(days=2))
    with UnitOfWork(engine, readonly=True) as s:
        reasons = dict(s.execute(select(TriggerDecision.case_id, TriggerDecision.reason)).all())
        assert sorted(reasons.values()) == ["invited", "invited", "throttled"]
    assert len(provider.accepted) == 2 and smtp.inbox.messages == []
    # A late 'sent' does not undo 'delivered'.
    assert _report(client, provider, _message_id(provider), "sent").status_code == 200
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalars(select(TextMessage.status))) == ["delivered", "failed"]


def test_stop_stops_sms_only_and_the_next_invitation_goes_by_email(engine, provider, smtp):
    _world(engine, email="sanne@example.nl", preferred="sms", rule={"throttle_days": 0})
    _case(engine, "K1", T0)
    _drain(engine, T0)
    assert len(provider.accepted) == 1
    client = _client(engine)
    stranger = _reply(client, provider, "+31687654321", "STOP")  # nobody we texted: nothing to change
    assert stranger.status_code == 200
    response = _reply(client, provider, PHONE, "Stop")
    assert response.status_code == 200
    if provider.name == "twilio":
        assert response.headers["content-type"].startswith("text/xml") and "<Response>" in response.text
    with UnitOfWork(engine, readonly=True) as s:
        preference = s.scalar(select(ContactPreference))
        assert preference.sms_opted_out_at is not None and preference.whatsapp_opted_out_at is None
        assert s.scalar(select(Customer.opted_out_at)) is None  # other channels still welcome
    # (the replies were recorded at the wall clock, about T0 + 1 h)
    _case(engine, "K2", T0 + timedelta(hours=3))
    _drain(engine, T0 + timedelta(hours=3))
    assert len(provider.accepted) == 1
    [mail] = smtp.inbox.wait_for(1)
    assert mail["To"].addresses[0].addr_spec == "sanne@example.nl"
    with UnitOfWork(engine, readonly=True) as s:
        assert sorted(s.scalars(select(Invitation.channel))) == ["email", "sms"]

    # START restores SMS (the customer's preference is still SMS).
    assert _reply(client, provider, PHONE, "START").status_code == 200
    _case(engine, "K3", T0 + timedelta(hours=4))
    _drain(engine, T0 + timedelta(hours=4))
    assert len(provider.accepted) == 2


def test_a_customer_with_only_a_stopped_phone_is_opted_out(engine, provider):
    _world(engine)
    with UnitOfWork(engine) as s:
        s.add(ContactPreference(customer_id=s.scalar(select(Customer.id)), sms_opted_out_at=T0 - timedelta(days=1),
                                updated_at=T0))
    _case(engine, "K1", T0)
    _drain(engine, T0)
    assert provider.calls == []
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(TriggerDecision.reason)) == "opted_out"


def test_the_reminder_goes_by_sms_with_a_link_of_its_own(engine, provider):
    _world(engine)
    _case(engine, "K1", T0)
    _drain(engine, T0)
    _drain(engine, T0 + timedelta(days=3))
    first, reminder = _sent_texts(provider)
    assert septets(reminder) <= 160 and "STOP" in reminder
    token_1 = first.split("/s/")[1].split()[0]
    token_2 = reminder.split("/s/")[1].split()[0]
    assert token_1 != token_2
    with UnitOfWork(engine, readonly=True) as s:
        now = T0 + timedelta(days=3, minutes=1)
        assert service.resolve(s, token_1, now).id == service.resolve(s, token_2, now).id
        assert sorted(s.scalars(select(TextMessage.purpose))) == ["invitation", "reminder"]


def test_the_preferred_channel_is_set_through_the_api(engine, provider, smtp):
    from servicepulse.org.service import create_api_key

    _world(engine, email="sanne@example.nl", rule={"throttle_days": 0})
    with UnitOfWork(engine) as s:
        key = create_api_key(s, "crm", scopes=["write:events", "read:cases"]).key
    client = _client(engine)
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/contact-preferences/C1", headers=auth).json()["channel"] == "email"
    put = client.put("/api/v1/contact-preferences/C1", json={"preferred_channel": "sms"}, headers=auth)
    assert put.status_code == 200 and put.json()["channel"] == "sms", put.text
    bad = client.put("/api/v1/contact-preferences/C1", json={"preferred_channel": "fax"}, headers=auth)
    assert bad.status_code == 422 and "preferred_channel" in bad.text
    assert client.put("/api/v1/contact-preferences/nobody", json={}, headers=auth).status_code == 404
    _case(engine, "K1", T0)
    _drain(engine, T0)
    assert len(provider.accepted) == 1 and smtp.inbox.messages == []
    stop = client.put("/api/v1/contact-preferences/C1", json={"sms_stopped": True}, headers=auth)
    assert stop.json()["channel"] == "email" and stop.json()["sms_stopped_at"] is not None


def test_erasure_removes_text_messages_and_preferences(engine, provider):
    _world(engine, preferred="sms")
    _case(engine, "K1", T0)
    _drain(engine, T0)
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).select_from(TextMessage)) == 1
        erase_customer(s, "C1", actor="test")
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(TextMessage)) == 0
        assert s.scalar(select(func.count()).select_from(ContactPreference)) == 0
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
