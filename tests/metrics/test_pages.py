"""Dashboard pages and JSON routes through the real app (TestClient), logged in, on both databases."""

from __future__ import annotations

import re
from html import unescape

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.org import service as org

from .conftest import login


@pytest.fixture
def analyst(client, make_user):
    make_user("ana@example.org", role="analyst", language="en")
    assert login(client, "ana@example.org").status_code == 303
    return client


@pytest.fixture
def api_key(engine):
    with UnitOfWork(engine) as s:
        return org.create_api_key(s, "reporting").key


def test_overview_shows_figures_intervals_and_trend(analyst, small):
    page = analyst.get("/metrics")
    assert page.status_code == 200
    html = page.text
    assert "Headline figures" in html and "<svg" in html and 'role="img"' in html
    assert "Repair" in html and f'/metrics/journeys/{small.journey_id}' in html
    assert re.search(r"<strong>-?\d+</strong> <span class=\"ci\">\(-?\d+ – -?\d+\)</span>", html)


def test_overview_with_bad_query_explains_and_still_renders(analyst, small):
    page = analyst.get("/metrics?month=oktober&period=year&team=abc")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "'oktober' is not a month" in text
    assert "Unknown period 'year'" in text
    assert "'abc' in 'team' is not a number" in text


def test_too_few_answers_instead_of_numbers(analyst, small):
    html = analyst.get("/metrics?month=2030-01").text
    assert "too few answers (n = 0)" in html
    assert "nan" not in html.lower().replace("nano", "")


def test_journey_moment_view_and_drill_down_with_pages(analyst, small):
    html = analyst.get(f"/metrics/journeys/{small.journey_id}").text
    assert 'data-moment="call"' in html and 'data-moment="visit"' in html
    assert "Label check on" in html or "too few complete answers" in html.lower()
    visit = small.moment_ids["visit"]
    page1 = analyst.get(f"/metrics/moments/{visit}")
    assert page1.status_code == 200
    graded = small.frame[small.frame["m_visit"].notna()]
    assert f"The answers behind this figure ({len(graded)})" in page1.text
    assert page1.text.count("data-response=") == 50
    assert 'rel="next"' in page1.text
    last = -(-len(graded) // 50)
    page_last = analyst.get(f"/metrics/moments/{visit}?page={last}")
    assert page_last.text.count("data-response=") == len(graded) - 50 * (last - 1)
    assert analyst.get("/metrics/moments/999999").status_code == 404


def test_drivers_page_with_too_few_answers_message(analyst, small):
    html = analyst.get(f"/metrics/drivers?journey={small.journey_id}&include=moments").text
    assert "What drives the experience?" in html
    assert 'data-driver="call"' in html or "Too few" in html or "could not be run" in html
    html = analyst.get("/metrics/drivers?include=moments").text
    assert "Choose a journey" in html


def test_monthly_report_pdf(analyst, small):
    response = analyst.get("/metrics/report.pdf?month=2026-02")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000
    assert analyst.get("/metrics/report.pdf?month=feb").status_code == 400


def test_agents_may_not_see_metrics(client, make_user, small):
    make_user("agent@example.org", role="agent")
    login(client, "agent@example.org")
    assert client.get("/metrics").status_code == 403
    assert client.get("/improvement").status_code == 403


def test_the_old_insights_urls_redirect_to_metrics(analyst, small):
    # bookmarks and links from before the pages moved: same path under /metrics, query kept, method kept (308)
    for old, new in (("/insights", "/metrics"), ("/insights?month=2026-02&period=week", "/metrics?month=2026-02&period=week"),
                     (f"/insights/journeys/{small.journey_id}?outcome=grade",
                      f"/metrics/journeys/{small.journey_id}?outcome=grade")):
        response = analyst.get(old, follow_redirects=False)
        assert response.status_code == 308 and response.headers["location"] == new
        assert analyst.head(old, follow_redirects=False).status_code == 308
    assert analyst.get("/insights/drivers", follow_redirects=True).url.path == "/metrics/drivers"
    assert analyst.get("/insightsx", follow_redirects=False).status_code == 404


def test_not_logged_in_redirects(client, engine):
    response = client.get("/metrics", follow_redirects=False)
    assert response.status_code in (302, 303, 307) and "/login" in response.headers["location"]


def test_metrics_api(client, api_key, small):
    auth = {"Authorization": f"Bearer {api_key}"}
    body = client.get("/api/v1/metrics?by=channel&min_n=5", headers=auth).json()
    frame = small.frame
    assert {g["key"] for g in body["groups"]} == set(frame["channel"])
    for group in body["groups"]:
        nps = frame.loc[frame["channel"] == group["key"], "nps"].dropna()
        assert group["nps"]["score"] == pytest.approx(100 * ((nps >= 9).mean() - (nps <= 6).mean()))
        assert group["nps"]["method"] == "adjusted-wald"
    wald = client.get("/api/v1/metrics?method=wald", headers=auth).json()["groups"][0]["nps"]
    assert wald["method"] == "wald"
    assert client.get("/api/v1/metrics?by=planet", headers=auth).status_code == 422
    assert client.get("/api/v1/metrics").status_code == 401
    moments = client.get(f"/api/v1/journeys/{small.journey_id}/moments", headers=auth).json()
    assert [m["key"] for m in moments["moments"]] == ["call", "visit"]
    assert client.get("/api/v1/journeys/9999/moments", headers=auth).status_code == 404
    drivers = client.get("/api/v1/drivers?include=moments", headers=auth)
    assert drivers.status_code == 422 and "journey" in drivers.text
