"""Sweep item: the expectation survey (surveys' template `expectation`, per journey) on a phone. Its 1-5 and
1-10 marks are choices s1..s10: shown as one-row scales like a grade (a tap target of 44 px high, one row down to
320 px wide), its questions under a heading per subject ("Onderwerp 4 van 9: Storing melden"), the stored answer
still the choice's key; no axe-core violations; under 30 KB with every question in error."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.investment import expectation_survey
from servicepulse.models import Answer, Moment, Response, Survey, utcnow

from ..invitations.support import add_customer, sent_invitation
from ..web.browser import live_server
from .axe import assert_no_violations, axe_script, browser_context
from .conftest import seed_fault_journey

SURVEY = "expectation-fault-repair"


@pytest.fixture
def expectation_invitation(engine):
    with UnitOfWork(engine) as s:
        journey = seed_fault_journey(s)["journey"]
        for position, (key, nl, en) in enumerate([("diagnosis", "Diagnose en afspraak", "Diagnosis and appointment"),
                                                  ("waiting", "Wachten op de monteur", "Waiting for the engineer")],
                                                 start=3):  # five moments, as the demo's longest journeys
            journey.moments.append(Moment(key=key, position=position, name_nl=nl, name_en=en, kind="functional",
                                          norm=7.0))
        s.flush()
        expectation_survey.install(s)
        survey = s.scalar(select(Survey).where(Survey.key == SURVEY))
        customer = add_customer(s, "C-exp", email="verwacht@example.nl", language="nl")
        _, token = sent_invitation(s, survey, customer, utcnow())
        return token


def test_marks_are_one_row_scales_under_a_heading_per_subject(client, engine, expectation_invitation):
    token = expectation_invitation
    html = client.get(f"/s/{token}").text
    headings = re.findall(r'<h2 id="group-\d+">([^<]+)</h2>', html)
    assert headings[:4] == ["Onderwerp 1 van 9: Prijs", "Onderwerp 2 van 9: Product", "Onderwerp 3 van 9: Service",
                            "Onderwerp 4 van 9: Storing melden"]
    assert headings[7] == "Onderwerp 8 van 9: Wachten op de monteur"
    assert headings[-1] == "Onderwerp 9 van 9"  # the open question: a subject of its own, unnamed
    assert html.count('<div class="points scale">') == 9 + 2 * 5  # every mark and importance question
    assert 'id="hint-exp_price">1 = zeer slecht, 10 = uitstekend<' in html
    assert 'id="hint-imp_price">1 = niet belangrijk, 5 = heel belangrijk<' in html
    # the answer is stored as the choice it always was
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html)[1], "lang": "nl", "action": "save",
            "q_exp_price": "s8", "q_imp_m_report_fault": "s4"}
    assert client.post(f"/s/{token}", data=form, follow_redirects=False).status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        stored = dict(s.execute(select(Answer.question_key, Answer.value_text).join(Response)).all())
    assert stored == {"exp_price": "s8", "imp_m_report_fault": "s4"}
    again = client.get(f"/s/{token}").text
    assert re.search(r'name=q_exp_price value=s8 checked>', again)
    # the heaviest state: every question in error, in English
    keys = set(re.findall(r'name="?q_([a-z0-9_]+)', again))
    wrong = {f"q_{k}": "s99" for k in keys if k != "expect_most"}
    page = client.post(f"/s/{token}?lang=en", data={**form, **wrong, "lang": "en", "action": "submit"})
    assert page.status_code == 422 and page.text.count('class="error"') == len(wrong)
    assert len(page.content) < 30 * 1024, len(page.content)


def test_on_a_phone_the_survey_is_short_one_row_and_accessible(engine, settings, backend, expectation_invitation):
    if backend != "sqlite":
        pytest.skip("the page's markup does not depend on the database")
    axe = axe_script()
    with live_server(engine, settings) as url:
        for width in (390, 320):
            with browser_context(locale="nl-NL", viewport={"width": width, "height": 800}) as context:
                page = context.new_page()
                page.goto(f"{url}/s/{expectation_invitation}")
                rows = page.evaluate("""() => [...document.querySelectorAll('.points.scale')].map(scale => {
                    const boxes = [...scale.querySelectorAll(':scope > label')].map(p => p.getBoundingClientRect());
                    return {tops: new Set(boxes.map(b => Math.round(b.top))).size,
                            minHeight: Math.min(...boxes.map(b => b.height)),
                            minWidth: Math.min(...boxes.map(b => b.width))};
                })""")
                assert rows and all(r["tops"] == 1 for r in rows), rows  # one row each
                assert all(r["minHeight"] >= 44 and r["minWidth"] >= 24 for r in rows), rows
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                height = page.evaluate("document.documentElement.scrollHeight")
                assert height < 6_500, height  # was 10,503 px at 390
                if width == 390:
                    assert_no_violations(page, axe, "the expectation survey (phone)")
