"""Filters on every analytics page (#17 item 1): the response's language as a filter, the same filter bar,
chips and kept query on the overview, journey, moment, drivers and survey pages; figures checked against an
independent count of the hand-made data."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import update

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Response, SurveyVersion

from .conftest import login


@pytest.fixture
def languages(engine, small):
    """Every third response answered in English, the others in Dutch; returns the frame with a language column."""
    frame = small.frame.copy()
    frame["language"] = ["en" if i % 3 == 0 else "nl" for i in frame["id"]]
    with UnitOfWork(engine) as s:
        english = [int(i) for i in frame.loc[frame["language"] == "en", "id"]]
        s.execute(update(Response).values(language="nl"))
        s.execute(update(Response).where(Response.id.in_(english)).values(language="en"))
    return frame


def _headline_n(html: str) -> int:
    headline = html.split('id="headline"')[1].split("</section>")[0]
    cell = re.search(r"<dt>(?:Reacties|Responses)</dt><dd><strong>([\d.,]+)</strong>", headline)
    return int(cell.group(1).replace(".", "").replace(",", ""))


def test_the_language_filter_counts_the_answers_in_that_language(client, make_user, small, languages):
    make_user("an@example.org", role="analyst", language="nl")
    login(client, "an@example.org")
    html = client.get("/metrics?language=en&segment=business").text
    expected = languages[(languages["language"] == "en") & (languages["segment"] == "business")]
    assert _headline_n(html) == len(expected)
    assert _headline_n(client.get("/metrics?language=nl").text) == int((languages["language"] == "nl").sum())
    # shown as chips in Dutch, each removable on its own
    chip = re.search(r'<li class="chip">Taal van het antwoord: <strong>Engels</strong>\s*<a href="([^"]+)"', html)
    assert chip and unescape(chip.group(1)) == "/metrics?segment=business"
    assert '<option value="en" selected>Engels</option>' in html and '<option value="nl">Nederlands</option>' in html
    # the NPS by hand: promoters minus detractors of the English business answers
    scores = expected["nps"].dropna()
    if len(scores) >= 30:
        nps = round(100 * ((scores >= 9).mean() - (scores <= 6).mean()))
        assert re.search(rf"<strong>{nps}</strong>", html.split('id="headline"')[1].split("</section>")[0])


def test_every_analytics_page_has_the_filter_bar_and_keeps_the_filters(client, make_user, small, languages):
    make_user("an@example.org", role="analyst", language="en")
    login(client, "an@example.org")
    team = small.team_ids["a"]
    query = f"segment=business&team={team}&language=en"
    visit = small.moment_ids["visit"]
    pages = {
        "/metrics": None,
        f"/metrics/journeys/{small.journey_id}": "journey",
        f"/metrics/moments/{visit}": "journey",
        "/metrics/drivers": None,
        "/surveys/repair-end": None,
    }
    for path, fixed in pages.items():
        html = client.get(f"{path}?{query}").text
        assert '<form method="get" class="filters card"' in html, path
        for name in ("channel", "team", "segment", "language", "month", "from", "to"):
            assert f'name="{name}"' in html, (path, name)
        assert ('name="journey"' in html.split('class="filters card"')[1].split("</form>")[0]) is (fixed is None), path
        # every chip, with a link that removes only it
        assert re.search(r'<li class="chip">Customer segment: <strong>business</strong>', html), path
        assert re.search(r'<li class="chip">Team: <strong>Team A</strong>', html), path
        remove = re.search(r'Language of the answer: <strong>English</strong>\s*<a href="([^"]+)"', html).group(1)
        assert unescape(remove) == f"{path}?segment=business&team={team}", path
        # the save-this-view form carries the page and its filters
        assert f'name="path" value="{path}"' in html and f'name="query" value="{query.replace("&", "&amp;")}"' in html
        # downloads keep the filters
        downloads = re.findall(r'href="([^"]*/(?:charts|tables)/[^"]+)"', html)
        assert all(unescape(d).endswith("?" + query) for d in downloads), (path, downloads)
    journey = client.get(f"/metrics/journeys/{small.journey_id}?{query}").text
    assert f"/metrics/moments/{small.moment_ids['call']}?{query.replace('&', '&amp;')}" in journey
    assert f'href="/metrics?{query.replace("&", "&amp;")}"' in journey  # back to the overview, filters kept


def test_moment_page_pager_keeps_filters_and_counts_the_filtered_answers(client, make_user, small, languages):
    make_user("an@example.org", role="analyst", language="en")
    login(client, "an@example.org")
    visit = small.moment_ids["visit"]
    html = client.get(f"/metrics/moments/{visit}?language=nl").text
    graded = languages[languages["m_visit"].notna() & (languages["language"] == "nl")]
    assert f"The answers behind this figure ({len(graded)})" in html
    assert len(graded) > 50  # so that there is a second page
    nxt = re.search(r'<a rel="next" href="([^"]+)"', html).group(1)
    assert unescape(nxt) == f"/metrics/moments/{visit}?language=nl&page=2"
    assert client.get(unescape(nxt)).text.count('data-response="') == min(50, len(graded) - 50)


def test_survey_page_scores_follow_the_filters(client, make_user, engine, small, languages):
    with UnitOfWork(engine) as s:
        s.execute(update(SurveyVersion).values(definition={"questions": [
            {"key": "nps", "type": "nps"}, {"key": "grade", "type": "grade"}]}))
    make_user("agent@example.org", role="agent", language="en")  # the survey pages are for every user
    login(client, "agent@example.org")
    html = client.get("/surveys/repair-end?channel=sms&language=en").text
    sms = languages[(languages["channel"] == "sms") & (languages["language"] == "en")]
    section = html.split('data-score="grade"')[1].split("</section>")[0]
    assert f"(n = {int(sms['grade'].notna().sum())})" in section
    table = dict(re.findall(r'<tr><th scope="row">(\d+)</th><td class="num">(\d+)</td></tr>', section))
    expected = sms["grade"].dropna().astype(int).value_counts()
    assert {int(k): int(v) for k, v in table.items() if int(v)} == {int(k): int(v) for k, v in expected.items()}
    assert "the filters apply to the scores below" in html
    # what the filters do not cover is said once, at the top, and at each such section (H3 item 2)
    assert html.index('id="filter-scope"') < html.index('data-score="nps"')
    assert "The filters apply to the scores only" in html and "All decisions about this survey, without the filters" in html
    assert 'id="filter-scope"' not in client.get("/surveys/repair-end").text
    # unfiltered: the whole survey
    whole = client.get("/surveys/repair-end").text.split('data-score="grade"')[1].split("</section>")[0]
    assert f"(n = {int(small.frame['grade'].notna().sum())})" in whole
