"""In real headless Chromium: an agent logs in, finds the follow-up in the work list, claims it, logs
a contact, grants a gesture within budget (one over budget is refused with the reason), and closes it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import alerts
from servicepulse.models import FollowUp, FollowUpContact, Gesture, utcnow
from servicepulse.models.followups import AlertRouting, RecoveryBudget
from servicepulse.settings import Settings
from tests.web.browser import chromium_page, live_server

from .conftest import PASSWORD, add_response


def test_an_agent_works_a_follow_up_in_the_browser(engine, org, sqlite_only):
    today = utcnow().date()
    with UnitOfWork(engine) as s:
        s.add(AlertRouting(moment_id=org.moment, team_id=org.team_a))
        s.add(RecoveryBudget(user_id=org.users["agent_a"], period_start=today - timedelta(days=40),
                             period_end=today + timedelta(days=40), amount_cents=50_00))
    add_response(engine, "R-1", ces=6, grade=3, why="De monteur kwam niet opdagen, ik overweeg op te zeggen",
                 now=utcnow())
    with UnitOfWork(engine) as s:
        ids = alerts.evaluate_responses(s, None, utcnow())
    fid = min(ids)

    settings = Settings(secret_key="browser-followups-" + "x" * 30)
    with live_server(engine, settings) as base, chromium_page() as page:
        page.goto(base + "/followups")
        page.get_by_label("E-mailadres").fill(org.email("agent_a"))
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(base + "/followups")
        page.get_by_role("link", name=f"#{fid}", exact=True).click()
        page.wait_for_url(f"{base}/followups/{fid}")
        assert "niet opdagen" in page.locator("#verbatim").inner_text()
        # the next step sits above what the follow-up is about: the first thing under the title
        assert page.locator("main section").first.get_attribute("id") == "next-step"

        page.get_by_role("button", name="Oppakken").click()
        page.wait_for_url(f"{base}/followups/{fid}")
        assert page.locator("#assignee").inner_text() == "Agent A"

        page.get_by_label("Notitie").first.fill("Klant gebeld, nieuwe afspraak gemaakt")
        page.locator("#contact-outcome").select_option("resolved")
        page.get_by_role("button", name="Contact opslaan").click()
        page.wait_for_url(f"{base}/followups/{fid}")

        page.get_by_text("Gebaar of vergoeding toekennen").click()  # the gesture form opens on request
        page.locator("#kind").select_option("gift")
        page.get_by_label("Bedrag (€)").fill("80")
        page.get_by_role("button", name="Toekennen").click()
        assert "does not fit" in page.get_by_role("alert").inner_text()  # over budget: refused, with the reason
        page.locator("#kind").select_option("credit")
        page.get_by_label("Bedrag (€)").fill("25,50")
        page.get_by_role("button", name="Toekennen").click()
        page.wait_for_url(f"{base}/followups/{fid}")
        assert "€ 25,50" in page.locator("#gestures").inner_text()

        page.locator("#close-outcome").select_option("compensated")
        page.locator("#root-cause").select_option("communication")
        page.get_by_role("button", name="Afsluiten").click()
        page.wait_for_url(f"{base}/followups/{fid}")
        assert page.locator("#status").inner_text().startswith("Afgesloten")

    with UnitOfWork(engine, readonly=True) as s:
        fu = s.get(FollowUp, fid)
        assert (fu.status, fu.outcome, fu.root_cause) == ("closed", "compensated", "communication")
        assert fu.first_contact_at is not None
        assert [c.outcome for c in s.scalars(select(FollowUpContact).where(FollowUpContact.followup_id == fid))] \
            == ["resolved"]
        assert [(g.kind, g.amount_cents, g.status) for g in s.scalars(select(Gesture))] == [("credit", 2550, "granted")]
