"""One way to write NPS, grade and CES (#17, H3 item 3): metrics/figures.py, used by the metrics pages, the
predicted page, the home page and the PDF; the same figure reads the same on every page."""

from __future__ import annotations

import re
from html import unescape

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import predicted
from servicepulse.metrics.figures import figure_text

from .conftest import SMALL_DEMO_SEED, login


@pytest.mark.parametrize(("kind", "value", "language", "change", "expected"), [
    ("nps", 2.3, "nl", False, "2"), ("nps", 2.3, "nl", True, "+2"), ("nps", -12.6, "en", False, "-13"),
    ("nps", -0.4, "nl", True, "0"), ("nps", 0.4, "nl", True, "0"), ("nps", None, "nl", False, "–"),
    ("grade", 7.25, "nl", False, "7,2"), ("grade", 7.26, "en", False, "7.3"), ("grade", -0.35, "nl", True, "-0,3"),
    ("ces", 5.04, "nl", True, "+5,0"), ("csat", 81.6, "en", False, "82"), ("nps", float("nan"), "en", False, "–"),
    ("nps", 1234.5, "nl", False, "1.234"),
])
def test_figure_text(kind, value, language, change, expected):
    assert figure_text(kind, value, language, change=change) == expected


@pytest.mark.demo("small", SMALL_DEMO_SEED)
def test_the_predicted_page_writes_nps_as_the_metrics_pages_do(client, make_user, engine):
    make_user("ana@example.org", role="analyst", language="nl")
    assert login(client, "ana@example.org").status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        view = predicted.predicted_experience(s)
    page = unescape(client.get("/metrics/predicted").text)
    overview = unescape(client.get("/metrics").text)
    row = page.split('data-row="respondents"')[1].split("</tr>")[0]
    shown = re.search(r'data-label="NPS">([^<]+)<', row).group(1)
    assert shown == figure_text("nps", view.respondents.nps, "nl")
    assert re.fullmatch(r"-?\d+", shown)  # a whole number, no sign on a level, no decimals
    block = overview.split('id="predicted-block"')[1].split("</section>")[0]
    assert f"NPS {shown}," in block  # the overview's predicted block: the same figure, the same text
    # every NPS level in the comparison: whole numbers; no "+2,3" left anywhere
    table = page.split('id="comparison"')[1].split("</table>")[0]
    assert all(re.fullmatch(r"-?\d+|–", v) for v in re.findall(r'data-label="NPS">([^<]+)<', table))
