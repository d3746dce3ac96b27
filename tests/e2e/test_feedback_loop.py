"""Done when: a demo case closes, the trigger invites the customer, the e-mail arrives at the loopback
SMTP server, the link opens in Chromium, the customer answers, and the answer shows on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.catalogue import ANALYST
from servicepulse.invitations import on_events, rules
from servicepulse.jobs import run_pending
from servicepulse.models import Case, CaseEvent, Customer, Journey, Response, utcnow
from servicepulse.models.invitations import TriggerDecision

from ..invitations.support import configure, dutch_count, invitation_counts, start_smtp, text_part, token_in
from ..public.axe import assert_no_violations, axe_script, browser_context
from ..web.browser import live_server

SURVEY = "journey-end-fault-repair"
VERBATIM = "De monteur kwam op tijd & legde alles <duidelijk> uit."


def _drain(engine, now):
    while run_pending(engine, now=now, limit=50).claimed:
        pass


def _open_demo_case(session):
    """An open fault-repair case of the demo whose customer can be e-mailed."""
    return session.execute(
        select(Case, Customer).join(Customer, Customer.id == Case.customer_id)
        .join(Journey, Journey.id == Case.journey_id)
        .where(Journey.key == "fault_repair", Case.closed_at.is_(None), Customer.opted_out_at.is_(None),
               Customer.email.is_not(None))
        .order_by(Case.id).limit(1)
    ).first()


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_a_closed_demo_case_leads_to_an_answer_on_the_dashboard(engine, settings, monkeypatch):
    now = utcnow().replace(microsecond=0)
    sent_before, answered_before = invitation_counts(engine, SURVEY)
    with UnitOfWork(engine) as s:
        rules.load_rules(s, {"rules": [{
            "key": "fault-repair-resolved", "survey": SURVEY, "journey": "fault_repair",
            "activity": "Case resolved", "delay": "30m", "require_closed": True, "sample_percent": 100,
        }]})
        found = _open_demo_case(s)
        if found is None:  # the demo has no open fault case: open one for a demo customer
            customer = s.scalar(select(Customer).where(Customer.opted_out_at.is_(None)).order_by(Customer.id))
            journey = s.scalar(select(Journey).where(Journey.key == "fault_repair"))
            case = Case(external_id="E2E-1", journey_id=journey.id, customer_id=customer.id,
                        opened_at=now - timedelta(days=2), attributes={})
            s.add(case)
            s.flush()
            s.add(CaseEvent(case_id=case.id, occurred_at=now - timedelta(days=2), seq=0, activity="Fault reported",
                            attributes={}))
        else:
            case, customer = found
        # The case closes: its last events arrive, and the importer's hook is called.
        seq = (s.scalar(select(CaseEvent.seq).where(CaseEvent.case_id == case.id)
                        .order_by(CaseEvent.seq.desc()).limit(1)) or 0) + 1
        s.add(CaseEvent(case_id=case.id, occurred_at=now - timedelta(minutes=5), seq=seq, activity="Fault fixed remotely",
                        attributes={}))
        s.add(CaseEvent(case_id=case.id, occurred_at=now, seq=seq + 1, activity="Case resolved", attributes={}))
        case.closed_at = now
        on_events(s, [case.id], now=now)
        case_id, address = case.id, customer.email

    controller, smtp = start_smtp()
    try:
        with live_server(engine, settings) as url:
            configure(monkeypatch, smtp, base_url=url)
            _drain(engine, now)  # matched; the invitation waits for the 30-minute delay
            assert smtp.inbox.messages == []
            _drain(engine, now + timedelta(minutes=30))
            [message] = smtp.inbox.wait_for(1)
            assert message["To"].addresses[0].addr_spec == address
            link = f"{url}/s/{token_in(message)}"
            assert link in text_part(message)

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
                verbatims = page.locator("#h-verbatims + .verbatims li").first
                assert VERBATIM in verbatims.inner_text()
                assert "invited" == page.locator('tr[data-reason="invited"]').get_attribute("data-reason")
                assert page.locator('tr[data-reason="invited"] td').inner_text() == "1"
                assert page.locator('[data-figure="sent"]').inner_text() == dutch_count(sent_before + 1)
                assert page.locator('[data-figure="answered"]').inner_text() == dutch_count(answered_before + 1)
                assert_no_violations(page, axe_script(), "the survey dashboard (phone)")
                page.goto(f"{url}/surveys")
                assert_no_violations(page, axe_script(), "the survey list (phone)")
    finally:
        controller.stop()

    with UnitOfWork(engine, readonly=True) as s:
        response = s.scalar(select(Response).where(Response.case_id == case_id))
        assert (response.nps, response.grade, response.ces, response.comment, response.completed) == \
            (9, 8, 6, VERBATIM, True)
        assert s.scalar(select(TriggerDecision.reason).where(TriggerDecision.case_id == case_id)) == "invited"
