"""Done when (issue #19): a Zendesk "ticket solved" webhook arrives, the trigger invites the customer by SMS
through the loopback provider, the customer opens the short link (Chromium, a phone's screen) and answers,
and the answer is on the dashboard. The provider's signed delivery report then arrives at the live server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.catalogue import ANALYST
from servicepulse.invitations import rules
from servicepulse.jobs import run_pending
from servicepulse.models import ContactPreference, Invitation, Response, TextMessage
from servicepulse.models.invitations import TriggerDecision
from servicepulse.settings import get_settings

from ..connectors.conftest import connector_env, zendesk_event, zendesk_headers  # noqa: F401  (fixture)
from ..public.axe import browser_context
from ..web.browser import live_server
from ..web.conftest import settings  # noqa: F401  (fixture)
from .sms_fakes import FakeTwilio, septets
from .support import add_customer, configure, dutch_count, invitation_counts, start_smtp

SURVEY = "journey-end-fault-repair"
VERBATIM = "Snel opgelost, via sms gevraagd en meteen ingevuld."


def _drain(engine, now):
    while run_pending(engine, now=now, limit=50).claimed:
        pass


def _post_zendesk(url: str, payload: dict) -> httpx.Response:
    import json

    body = json.dumps(payload).encode()
    return httpx.post(f"{url}/api/v1/connectors/zendesk", content=body, headers=zendesk_headers(body))


@pytest.mark.demo("tiny", 11)
def test_zendesk_solved_leads_to_an_sms_answered_on_a_phone_and_shown_on_the_dashboard(
        engine, settings, monkeypatch, connector_env):  # noqa: F811
    now = datetime.now(UTC).replace(microsecond=0)
    sent_before, answered_before = invitation_counts(engine, SURVEY)
    with UnitOfWork(engine) as s:
        rules.load_rules(s, {"rules": [{"key": "zendesk-solved-sms", "survey": SURVEY, "activity": "Ticket resolved",
                                        "delay": "30m", "require_closed": True, "reminder_after_days": None}]})
        customer = add_customer(s, "zendesk:20978392", email=None, language="nl", name="Sanne de Vries")
        customer.phone = "06-12345678"
        s.add(ContactPreference(customer_id=customer.id, preferred_channel="sms", updated_at=now))

    twilio = FakeTwilio("AC" + "7" * 32, "twilio-e2e-token")
    controller, smtp = start_smtp()
    try:
        with twilio, live_server(engine, settings) as url:
            configure(monkeypatch, smtp, base_url=url)
            monkeypatch.setenv("SERVICEPULSE_SMS_PROVIDER", "twilio")
            monkeypatch.setenv("SERVICEPULSE_SMS_SENDER", "+3197010000000")
            monkeypatch.setenv("SERVICEPULSE_TWILIO_ACCOUNT_SID", twilio.account_sid)
            monkeypatch.setenv("SERVICEPULSE_TWILIO_AUTH_TOKEN", twilio.auth_token)
            monkeypatch.setenv("SERVICEPULSE_TWILIO_API_URL", twilio.base_url)
            get_settings.cache_clear()

            created = zendesk_event("created", 35436, now - timedelta(hours=2), {"current": {"status": "NEW"}},
                                    event_id="01HN-SMS-CREATED", status="NEW", channel="web")
            solved = zendesk_event("status_changed", 35436, now - timedelta(minutes=1),
                                   {"current": "SOLVED", "previous": "OPEN"}, event_id="01HN-SMS-SOLVED",
                                   status="SOLVED", channel="web")
            assert _post_zendesk(url, created).status_code == 200
            assert _post_zendesk(url, solved).status_code == 200
            _drain(engine, now)
            assert twilio.calls == []  # the rule waits 30 minutes
            _drain(engine, now + timedelta(minutes=30))

            [call] = twilio.accepted
            assert call["form"]["To"] == "+31612345678"
            text = call["form"]["Body"]
            assert septets(text) <= 160 and "STOP" in text
            link = next(word for word in text.split() if word.startswith(f"{url}/s/"))
            assert smtp.inbox.messages == []

            with browser_context(locale="nl-NL", viewport={"width": 390, "height": 844}) as context:
                page = context.new_page()
                page.goto(link)
                page.check('input[name="q_nps"][value="9"]')
                page.check('input[name="q_grade"][value="8"]')
                page.check('input[name="q_ces"][value="6"]')
                page.fill('textarea[name="q_why"]', VERBATIM)
                page.locator('button[value="submit"]').click()
                page.wait_for_url("**/thanks**")

                page.goto(f"{url}/login")
                page.fill('input[name="email"]', ANALYST.email)
                page.fill('input[name="password"]', ANALYST.password)
                page.locator('form button[type="submit"]').last.click()
                page.wait_for_load_state()
                page.goto(f"{url}/surveys/{SURVEY}")
                assert VERBATIM in page.locator("#h-verbatims + .verbatims li").first.inner_text()
                assert page.locator('[data-figure="sent"]').inner_text() == dutch_count(sent_before + 1)
                assert page.locator('[data-figure="answered"]').inner_text() == dutch_count(answered_before + 1)

            # Twilio reports delivery to the StatusCallback it was given, signed for that URL.
            form, headers = twilio.status_callback(call["sid"], "delivered")
            assert call["form"]["StatusCallback"] == f"{url}/api/v1/messaging/twilio/status"
            report = httpx.post(call["form"]["StatusCallback"], content=urlencode(form), headers=headers)
            assert report.status_code == 200 and "<Response>" in report.text
            forged = httpx.post(call["form"]["StatusCallback"], content=urlencode(form | {"MessageStatus": "failed"}),
                                headers=headers)
            assert forged.status_code == 403
            assert twilio.problems == []
    finally:
        controller.stop()
        get_settings.cache_clear()

    with UnitOfWork(engine, readonly=True) as s:
        [decision] = s.scalars(select(TriggerDecision).where(TriggerDecision.reason == "invited",
                                                             TriggerDecision.rule_id.is_not(None))
                               .order_by(TriggerDecision.id.desc()).limit(1)).all()
        invitation = s.get(Invitation, decision.invitation_id)
        assert invitation.channel == "sms"
        response = s.scalar(select(Response).where(Response.invitation_id == invitation.id))
        assert (response.nps, response.grade, response.ces, response.comment, response.completed) == \
            (9, 8, 6, VERBATIM, True)
        assert s.scalar(select(TextMessage.status).where(TextMessage.invitation_id == invitation.id)) == "delivered"
