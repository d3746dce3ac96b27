"""Sweep H3-F: /followups on a phone (390 px) is a compact list: a few short lines per follow-up instead of a
card with every label on a line of its own (21,700 px for 50 follow-ups), and no line for an empty assignee."""

from __future__ import annotations

from datetime import timedelta

from servicepulse.db.session import UnitOfWork
from servicepulse.models import FollowUp, utcnow
from servicepulse.settings import Settings
from tests.web.browser import browser_context, live_server

from .conftest import PASSWORD


def test_the_work_list_is_compact_on_a_phone(engine, org, sqlite_only):
    now = utcnow()
    with UnitOfWork(engine) as s:
        for i in range(20):
            s.add(FollowUp(cause="low_grade", cause_ref=f"phone:{i}", customer_id=org.customer, team_id=org.team_a,
                           priority=2, status="claimed" if i % 2 else "open", due_at=now + timedelta(days=i - 3),
                           assignee_id=org.users["agent_a"] if i % 2 else None, claimed_at=now if i % 2 else None))
    with live_server(engine, Settings(secret_key="phone-list-" + "x" * 30)) as base, \
            browser_context(locale="nl-NL", viewport={"width": 390, "height": 844}) as context:
        page = context.new_page()
        page.goto(base + "/followups")
        page.get_by_label("E-mailadres").fill(org.email("lead"))
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(base + "/followups")
        rows = page.locator("#worklist tbody tr")
        assert rows.count() == 20
        heights = [box["height"] for box in (rows.nth(i).bounding_box() for i in range(20))]
        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
        # was a label and a value per field: 14 lines and more per follow-up
        assert max(heights) <= 7.5 * line and sum(heights) / len(heights) <= 5 * line, heights
        # an unassigned follow-up has no "Opgepakt door: -" line; an assigned one names the assignee
        assert not rows.nth(0).locator("td.unset").is_visible()
        assigned = page.locator("#worklist tbody tr", has_text="Agent A").first
        assert "Agent A" in assigned.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
