"""The public pages in real headless Chromium: zero axe-core WCAG 2.1 A/AA violations, keyboard only, visible focus."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import enable_anonymous_link
from servicepulse.models import Response, utcnow

from ..invitations.support import add_customer, seed_world, sent_invitation
from ..web.browser import live_server
from .axe import assert_no_violations, axe_script, browser_context
from .conftest import fault_case, seed_fault_journey


@pytest.fixture(scope="session")
def axe():
    return axe_script()


@pytest.fixture
def site(engine, settings, backend):
    if backend != "sqlite":
        pytest.skip("the pages' markup does not depend on the database; the SQLite run covers it")
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=1)
        nl = add_customer(s, "C-nl", email="nl@example.nl", language="nl")
        en = add_customer(s, "C-en", email="en@example.org", language="en")
        _, token_nl = sent_invitation(s, world["survey"], nl, utcnow())
        _, token_en = sent_invitation(s, world["survey"], en, utcnow())
        _, token_old = sent_invitation(s, world["survey"], en, utcnow() - timedelta(days=20))
    with live_server(engine, settings) as url:
        yield {"url": url, "nl": token_nl, "en": token_en, "old": token_old}


def test_every_public_page_state_has_zero_wcag_violations(site, axe):
    url = site["url"]
    with browser_context(locale="nl-NL", viewport={"width": 375, "height": 740}) as context:  # a phone
        page = context.new_page()
        page.goto(f"{url}/s/{site['nl']}")
        assert_no_violations(page, axe, "the survey (nl, phone)")
        # Submitting nothing: the error state.
        page.get_by_role("button", name="Versturen").click()
        page.wait_for_selector(".error-summary")
        assert_no_violations(page, axe, "the survey with errors")
        # A partial save: the saved notice and the score-dependent prompt.
        page.get_by_label("1 Helemaal mee oneens").check()
        page.get_by_role("button", name="Bewaren en later verder").click()
        page.wait_for_selector(".notice")
        assert "Wat maakte het lastig?" in page.content()
        assert_no_violations(page, axe, "the survey after a save")
        page.get_by_role("button", name="Versturen").click()
        page.wait_for_url("**/thanks**")
        assert_no_violations(page, axe, "the thank-you page")
        page.get_by_role("link", name="Klaar").click()
        page.wait_for_url("**/done**")
        assert_no_violations(page, axe, "the last page ('Klaar')")
        page.goto(f"{url}/s/{site['nl']}/opt-out")
        assert_no_violations(page, axe, "the opt-out page")
        page.get_by_role("button", name="Ja, meld mij af").click()
        page.wait_for_selector("text=U bent afgemeld")
        assert_no_violations(page, axe, "the opt-out confirmation")
        for path, what in [(f"/s/{site['old']}", "the expired-link page (410)"), ("/s/" + "x" * 43, "the unknown-link page (404)")]:
            page.goto(url + path)
            assert_no_violations(page, axe, what)
    with browser_context(locale="en-GB", viewport={"width": 1280, "height": 900}) as context:  # a desktop
        page = context.new_page()
        page.goto(f"{url}/s/{site['en']}")
        assert page.locator("html").get_attribute("lang") == "en"
        assert_no_violations(page, axe, "the survey (en, desktop)")
        page.goto(f"{url}/a/after_contact")
        assert_no_violations(page, axe, "the anonymous survey")
        page.get_by_label("7 Strongly agree").check()
        page.get_by_role("button", name="Send").click()
        page.wait_for_url("**/thanks**")
        page.goto(f"{url}/a/after_contact")
        page.get_by_role("button", name="Send").click()  # second start from this address: over the limit
        page.wait_for_selector("text=Please wait a little")
        assert_no_violations(page, axe, "the rate-limit page (429)")


def test_the_survey_can_be_answered_with_the_keyboard_alone(site, engine):
    with browser_context(locale="nl-NL") as context:
        page = context.new_page()
        page.goto(f"{site['url']}/s/{site['nl']}")
        focused = []
        for _ in range(40):  # Tab until the CES group has focus
            page.keyboard.press("Tab")
            name = page.evaluate("document.activeElement.name || document.activeElement.textContent.trim()")
            focused.append(name)
            if name == "q_ces":
                break
        assert focused[-1] == "q_ces", focused
        # The focus is visible: a 3 px outline on the focused control.
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth + ' ' + "
                                "getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "3px solid"
        page.keyboard.press("Space")  # checks the first point (1)
        for _ in range(5):
            page.keyboard.press("ArrowRight")  # moves and checks: 6
        page.keyboard.press("Tab")  # to the grade group
        page.keyboard.press("Space")
        for _ in range(7):
            page.keyboard.press("ArrowRight")  # 8
        page.keyboard.press("Tab")  # to 'resolved'
        page.keyboard.press("Space")  # yes
        page.keyboard.press("Tab")  # to the open question
        assert page.evaluate("document.activeElement.tagName") == "TEXTAREA"
        page.keyboard.type("Alles in een keer geregeld.")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent.trim()") == "Versturen"
        page.keyboard.press("Enter")
        page.wait_for_url("**/thanks**")
    with UnitOfWork(engine, readonly=True) as s:
        response = s.scalar(select(Response))
        assert (response.ces, response.grade, response.comment, response.completed) == (6, 8, "Alles in een keer geregeld.", True)


@pytest.fixture
def journey_site(engine, settings, backend):
    if backend != "sqlite":
        pytest.skip("the pages' markup does not depend on the database; the SQLite run covers it")
    with UnitOfWork(engine) as s:
        world = seed_fault_journey(s)
        customer = add_customer(s, "C-journey", email="journey@example.nl", language="nl")
        case = fault_case(s, world, customer, "F-a11y", ["report_fault", "engineer_visit", "resolution_confirmed"])
        _, token = sent_invitation(s, world["survey"], customer, utcnow(), case=case)
    with live_server(engine, settings) as url:
        yield url, token


SCALE_ROWS = """() => [...document.querySelectorAll('.scale')].map(scale => {
    const boxes = [...scale.querySelectorAll('.point')].map(p => p.getBoundingClientRect());
    return {rows: new Set(boxes.map(b => Math.round(b.top))).size, narrowest: Math.min(...boxes.map(b => b.width)),
            right: Math.max(...boxes.map(b => b.right))};
})"""


def test_the_scales_keep_one_row_on_a_small_phone_and_the_journey_survey_has_zero_violations(journey_site, axe):
    url, token = journey_site
    for width in (320, 390):
        for lang, send in (("nl", "Versturen"), ("en", "Send")):
            with browser_context(locale="nl-NL", viewport={"width": width, "height": 740}) as context:
                page = context.new_page()
                page.goto(f"{url}/s/{token}?lang={lang}")
                for state in ("normal", "error"):
                    if state == "error":
                        page.get_by_role("button", name=send).click()
                        page.wait_for_selector(".error-summary")
                    scales = page.evaluate(SCALE_ROWS)
                    assert len(scales) == 5, scales  # NPS, grade, three moment grades (CES is a labelled list)
                    for scale in scales:
                        assert scale["rows"] == 1, (width, lang, state, scale)
                        assert scale["narrowest"] >= 24, (width, lang, state, scale)  # a finger-sized target
                        assert scale["right"] <= width, (width, lang, state, scale)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
                    if width == 320:
                        assert_no_violations(page, axe, f"the journey survey ({lang}, 320 px, {state})")
                if width == 320 and lang == "nl":
                    # The error summary's link takes the keyboard to the question; "not applicable" is a choice.
                    page.locator(".error-summary a").first.click()
                    assert page.evaluate("document.activeElement.id") == "q-nps"
                    page.get_by_label("Niet van toepassing").first.check()
                    assert page.locator('input[name="q_moment_report_fault"][value="na"]').is_checked()
                    assert_no_violations(page, axe, "the journey survey with 'not applicable' chosen")
