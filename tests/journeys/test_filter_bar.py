"""The journey page's filter bar (the analytics pages' one bar): the period, team and segment choose the cases
the figures are about, the chips name them, the graph's image carries them, and a bad value is a message."""

from __future__ import annotations

import re

from tests.journeys.test_pages import ROUTES, site  # noqa: F401

CASES_CELL = re.compile(r'<tr data-moment="_journey"><th scope="row">[^<]*</th>\s*<td class="num">([^<]+)</td>')


def whole_journey_cases(html: str) -> str | None:
    found = CASES_CELL.search(html)
    return found.group(1) if found else None


def test_the_period_chooses_the_cases(site):  # noqa: F811
    everything = site.get("/journeys/fault")
    assert everything.status_code == 200 and whole_journey_cases(everything.text) == str(len(ROUTES))
    assert 'name="month"' in everything.text and 'name="segment"' in everything.text
    assert 'name="channel"' not in everything.text  # a case has no one channel: not offered here
    inside = site.get("/journeys/fault?from=2026-05-01&to=2026-06-01")
    assert whole_journey_cases(inside.text) == str(len(ROUTES))
    assert "dfg.svg?lang=en&amp;names=" in inside.text and "&amp;from=2026-05-01&amp;to=2026-06-01" in inside.text
    assert 'class="chips"' in inside.text  # the active filters as chips, each removable
    before = site.get("/journeys/fault?from=2026-01-01&to=2026-05-01")
    assert before.status_code == 200 and whole_journey_cases(before.text) is None  # no case opened then
    assert "No cases" in before.text or 'class="empty"' in before.text
    image = site.get("/journeys/fault/dfg.svg?from=2026-01-01&to=2026-05-01")
    assert image.status_code == 200 and b"Engineer visit" not in image.content


def test_segment_and_team_narrow_and_bad_values_are_messages(site):  # noqa: F811
    page = site.get("/journeys/fault?segment=business")
    assert page.status_code == 200 and whole_journey_cases(page.text) is None  # the log's cases have no customer
    bad = site.get("/journeys/fault?from=2026-13-45&team=abc")
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    assert whole_journey_cases(bad.text) == str(len(ROUTES))  # the refused values filter nothing
