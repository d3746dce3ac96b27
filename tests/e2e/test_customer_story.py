"""Done when (issue #16): in Chromium, an agent opens a follow-up, sees the case timeline with the customer's
answer, clicks through to the customer page and back."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Answer, FollowUp, OrgUnit, Response, utcnow
from servicepulse.org import service as org_service

from ..web.browser import chromium_page, live_server
from ..web.conftest import PASSWORD

AGENT = "e2e-agent@example.org"


def _answered_demo_case(session):
    """A demo answer with a comment on a case of a known customer, routed to a team, that graded a moment."""
    graded = select(Answer.response_id).where(Answer.question_key.startswith("moment_"))
    return session.scalar(
        select(Response).where(Response.case_id.is_not(None), Response.customer_id.is_not(None),
                               Response.team_id.is_not(None), Response.comment.is_not(None),
                               Response.moment_id.is_not(None), Response.id.in_(graded))
        .order_by(Response.submitted_at.desc(), Response.id).limit(1))


def _followup_for(session, response: Response) -> int:
    """The open follow-up of this answer's customer (the demo's alerts), or a new one for the answer."""
    existing = session.scalar(select(FollowUp.id).where(
        FollowUp.customer_id == response.customer_id, FollowUp.team_id == response.team_id,
        FollowUp.case_id == response.case_id, FollowUp.status != "closed").order_by(FollowUp.id).limit(1))
    if existing is not None:
        return existing
    fu = FollowUp(cause="detractor", cause_ref=f"response:{response.id}", case_id=response.case_id,
                  response_id=response.id, customer_id=response.customer_id, team_id=response.team_id,
                  status="open", due_at=utcnow() + timedelta(days=2))
    session.add(fu)
    session.flush()
    return fu.id


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_an_agent_follows_the_customer_story_from_a_follow_up_and_back(engine, settings, backend):
    if backend != "sqlite":
        pytest.skip("browser test runs on SQLite only: the pages' queries are covered on both in tests/web")
    with UnitOfWork(engine) as s:
        response = _answered_demo_case(s)
        assert response is not None, "the tiny demo has answers on cases"
        team_key = s.scalar(select(OrgUnit.key).where(OrgUnit.id == response.team_id))
        org_service.create_user(s, AGENT, "E2E Agent", PASSWORD, "agent", teams=[team_key])
        followup = _followup_for(s, response)
        rid, customer = response.id, response.customer_id

    with live_server(engine, settings) as base, chromium_page() as page:
        page.goto(f"{base}/followups/{followup}")
        page.get_by_label("E-mailadres").fill(AGENT)
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(f"{base}/followups/{followup}")

        story = page.locator("#case-story")
        answer = story.locator(f'[data-response="{rid}"]')
        answer.wait_for()
        assert "Daarna gaf de klant" in answer.inner_text()  # told as a sentence, at its place in the timeline
        assert story.locator("li[data-kinds]").count() > 1

        story.get_by_role("link", name="Alles over deze klant").click()
        page.wait_for_url(re.compile(re.escape(f"{base}/customers/{customer}?back=")))
        on_customer_page = page.locator(f"#response-{rid}")
        on_customer_page.wait_for()
        assert "Daarna gaf de klant" in on_customer_page.inner_text()
        assert page.locator(f'[data-followup="{followup}"]').count() == 1

        page.locator("#back-link").click()
        page.wait_for_url(f"{base}/followups/{followup}")
        assert page.locator("#case-story").is_visible()
