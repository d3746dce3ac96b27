"""The scan on the demo organisation: shared drivers count once, and the page (and PDF) open with the ranked summary."""

from __future__ import annotations

import re

import lxml.html
import pytest

from servicepulse import metrics
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
        table = metrics.key_drivers(s, include="case").table
    parts: dict[str, list] = {}
    for row in report.rows:
        for part in row.targets:
            if part.key[0] == "driver":
                parts.setdefault(part.key[1], []).append(part)
    shared = {d: ps for d, ps in parts.items() if len(ps) > 1}
    assert {"broken_promise", "dark_period_over_2_days"} <= set(shared)  # as the demo's projects are planned
    for driver, ps in shared.items():
        assert sum(p.share for p in ps) == pytest.approx(1.0)
        # the driver's lift: |slope| x cases with it x share prevented (plans together, at most all of them)
        plans = min(sum(p.effect.planned for p in ps), 1.0)
        driver_lift = abs(table.loc[driver, "slope"]) * table.loc[driver, "prevalence"] * plans
        assert sum(p.effect.lift for p in ps) == pytest.approx(driver_lift), driver
    # and no project, nor all of them together, passes the top of the 0-10 scale
    assert all(row.scan.expected_lift <= 10 - report.current for row in report.rows)


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
        assert "punt op de aanbevelingsscore (0–10)" in lift
        assert re.search(r"95%-interval: [+-]?\d+,\d\d tot [+-]?\d+,\d\d", lift), lift
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
        assert "points on the 0–10 recommendation score" in lift
        assert re.search(r"95% interval: [+-]?\d+\.\d\d to [+-]?\d+\.\d\d", lift), lift

    # the PDF opens with the same summary (one partial for both)
    pdf_rows = _summary_rows(scan_html(report, language="nl"))
    assert [r.text_content().split() for r in pdf_rows] == [r.text_content().split() for r in rows]
