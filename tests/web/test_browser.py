"""In real headless Chromium: log in, see the journeys, switch language, log out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Answer, Journey, Moment, Response, Survey, SurveyVersion

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def _journey(engine):
    with UnitOfWork(engine) as s:
        survey = Survey(key="s", name="s")
        version = SurveyVersion(survey=survey, version=1, definition={})
        journey = Journey(key="repair", name_nl="Storing melden", name_en="Reporting an outage")
        first = Moment(journey=journey, key="report", position=1, name_nl="Melding", name_en="Report",
                       kind="functional", norm=7.0)
        second = Moment(journey=journey, key="fixed", position=2, name_nl="Weer online", name_en="Back online",
                        kind="emotional", norm=9.0)
        s.add_all([survey, version, journey, first, second])
        s.flush()
        when = datetime(2026, 2, 1, 12, tzinfo=UTC)
        s.add_all([Response(survey_version_id=version.id, moment_id=second.id, grade=9, submitted_at=when,
                            answers=[Answer(question_key="moment_fixed", value_num=9.0)])  # grades the moment
                   for _ in range(4)])


def test_login_and_home_page_in_chromium(engine, make_user, live_url, page):
    _journey(engine)
    make_user("ann@example.org", name="Ann de Vries", language="nl")

    page.goto(live_url + "/")
    assert page.url.startswith(live_url + "/login")
    page.get_by_label("E-mailadres").fill("ann@example.org")
    page.get_by_label("Wachtwoord").fill("wrong password")
    page.get_by_role("button", name="Inloggen").click()
    assert "horen niet bij elkaar" in page.get_by_role("alert").inner_text()

    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(live_url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Klantreizen"
    assert page.get_by_role("heading", name="Storing melden").is_visible()
    rows = page.locator("tr[data-moment]")
    assert rows.count() == 2
    # a manager's journeys are folded (one line each, so a phone sees what to improve first); they open on a
    # click and from the keyboard
    assert not rows.nth(0).is_visible()
    page.locator("details.journey > summary").first.focus()
    page.keyboard.press("Enter")
    assert rows.nth(0).is_visible()
    assert rows.nth(0).inner_text().split("\t")[1:5] == ["Melding", "functioneel", "7,0", "0"]
    assert rows.nth(1).inner_text().split("\t")[1:5] == ["Weer online", "emotioneel", "9,0", "4"]
    assert page.locator("html").get_attribute("lang") == "nl"

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Reporting an outage").is_visible()
    assert page.locator("html").get_attribute("lang") == "en"

    # The skip link is the first thing a keyboard user reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_url + "/login")
    page.goto(live_url + "/")
    assert page.url.startswith(live_url + "/login")
