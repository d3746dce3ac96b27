"""The scan on the demo organisation: shared drivers count once (and a moment project's drivers not at all), and the page (and PDF) open with the ranked summary."""

from __future__ import annotations

import re

import lxml.html
import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.improvement import service
from servicepulse.improvement.report import scan_html
from tests.web.conftest import csrf_from, login

# English words that could slip into a Dutch row (a unit, an interval, a class label or a fallback text)
ENGLISH = {"points", "point", "on", "the", "to", "of", "and", "with", "lift", "expected", "cost", "little",
           "potential", "recommendation", "grade", "unknown", "few", "answers", "capped", "scale", "rank", "none"}


def _summary_rows(html: str):
    doc = lxml.html.fromstring(html)
    first = doc.xpath("//table")[0]
    assert "scan-summary" in first.get("class"), "the first table is the ranked summary"
    return first.xpath("./tbody/tr")


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_demo_drivers_addressed_by_several_projects_are_shared(engine):
    with UnitOfWork(engine, readonly=True) as s:
        report = service.scan(s, language="en")
    parts: dict[str, list] = {}
    for row in report.rows:
        for part in row.targets:
            if part.key[0] == "driver":
                parts.setdefault(part.key[1], []).append(part)
    shared = {d: ps for d, ps in parts.items() if len(ps) > 1}
    assert {"broken_promise", "dark_period_over_2_days"} <= set(shared)  # as the demo's projects are planned
    for ps in shared.values():
        assert sum(p.share for p in ps) == pytest.approx(1.0)
    # every demo project with a case fact also lifts moments: the fact is how, so it is shown but not added
    for row in report.rows:
        if any(p.key[0] == "moment" for p in row.targets):
            assert all(p.effect.lift == 0 and p.why.code == "through_moments" for p in row.targets
                       if p.key[0] == "driver")
            assert row.scan.expected_lift == pytest.approx(sum(p.effect.lift for p in row.targets))
    # and all projects together count each moment once, at most up to its norm
    assert report.joint == pytest.approx(sum(row.scan.expected_lift for row in report.rows))
    assert report.joint <= report.potential + 1e-9 and report.base + report.joint <= 100


@pytest.mark.demo("tiny", 11)
def test_demo_scan_page_opens_with_the_ranked_summary_in_both_languages(engine, client, make_user):
    with UnitOfWork(engine, readonly=True) as s:
        report = service.scan(s, language="nl")
    make_user("ana@example.org", role="analyst", language="nl")
    login(client, "ana@example.org")
    page = client.get("/improvement")
    assert page.status_code == 200
    rows = _summary_rows(page.text)
    assert [int(r.get("data-project")) for r in rows] == [r.project_id for r in report.rows]
    assert [r.xpath("./td")[0].text_content().strip() for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    for row in rows:
        lift = row.xpath("./td[contains(@class, 'lift')]")[0].text_content()
        assert "NPS-punten" in lift
        assert re.search(r"95%-interval: [+-]?\d+,\d tot [+-]?\d+,\d", lift), lift
        words = set(re.findall(r"[a-zà-ÿ]+", row.text_content().lower()))
        assert not words & ENGLISH, (row.text_content(), words & ENGLISH)
    # every project card says why in one Dutch sentence
    doc = lxml.html.fromstring(page.text)
    whys = [p.text_content() for p in doc.xpath("//section[contains(@class, 'project')]/p[@class='why']")]
    assert len(whys) == len(rows) and all(w.endswith(".") and w.count(". ") == 0 for w in whys)
    assert all(not set(re.findall(r"[a-zà-ÿ]+", w.lower())) & ENGLISH for w in whys), whys

    client.post("/language", data={"lang": "en", "next": "/improvement", "csrf_token": csrf_from(page.text)})
    english = client.get("/improvement").text
    for row in _summary_rows(english):
        lift = row.xpath("./td[contains(@class, 'lift')]")[0].text_content()
        assert "NPS points" in lift
        assert re.search(r"95% interval: [+-]?\d+\.\d to [+-]?\d+\.\d", lift), lift

    # the PDF opens with the same summary (one partial for both)
    pdf_rows = _summary_rows(scan_html(report, language="nl"))
    assert [r.text_content().split() for r in pdf_rows] == [r.text_content().split() for r in rows]
