"""Downloads (#17 items 2, 3): every chart of the analytics pages as SVG and PNG, every table as CSV (the
reader's spreadsheet convention: Dutch ';' and decimal commas) and XLSX, with the page's filters; their figures
are the page's (the same drawing, the same counts) and an independent count of the data's."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from html import unescape

import openpyxl
import pytest

from .conftest import SMALL_DEMO_SEED, login

DEMO = pytest.mark.demo("small", SMALL_DEMO_SEED)
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def dutch(client, make_user):
    make_user("an@example.org", role="analyst", language="nl")
    assert login(client, "an@example.org").status_code == 303
    return client


def _csv(response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def _number(cell: str) -> float | None:
    return None if cell == "" else float(cell.replace(",", "."))


def _paths(svg: str) -> list[str]:
    return sorted(p.get("d") for p in ET.fromstring(svg).iter(f"{SVG_NS}path") if p.get("d"))


def test_overview_charts_as_svg_and_png_are_the_pages_drawing(dutch, small):
    query = "segment=business&period=month"
    page = dutch.get(f"/metrics?{query}").text
    links = [unescape(x) for x in re.findall(r'href="(/metrics/charts/[^"]+)"', page)]
    assert sorted(link.split("?")[0] for link in links) == [
        "/metrics/charts/grade-trend.png", "/metrics/charts/grade-trend.svg",
        "/metrics/charts/nps-trend.png", "/metrics/charts/nps-trend.svg"]
    assert all(link.endswith("?" + query) for link in links)
    svg = dutch.get(f"/metrics/charts/nps-trend.svg?{query}")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert 'filename="servicepulse-overview-nps-trend.svg"' in svg.headers["content-disposition"]
    assert svg.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    # the same marks as the wide drawing on the page (the page draws it for the filtered selection)
    on_page = re.findall(r"<svg.*?</svg>", page, re.S)
    drawn = next(s for s in on_page if "chart-wide" in s)
    assert _paths(svg.text.split("?>", 1)[1]) == _paths(drawn)
    # unfiltered, the drawing differs (the filter is in the file, not only in the link)
    assert _paths(dutch.get("/metrics/charts/nps-trend.svg?period=month").text.split("?>", 1)[1]) != _paths(drawn)
    png = dutch.get(f"/metrics/charts/grade-trend.png?{query}")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and len(png.content) > 5_000


def test_unknown_charts_and_formats_are_refused(dutch, small, client, make_user):
    assert dutch.get("/metrics/charts/pie.svg").status_code == 404
    assert dutch.get("/metrics/charts/nps-trend.gif").status_code == 400  # the page's refusal, not a 500
    assert dutch.get(f"/metrics/journeys/{small.journey_id}/tables/moments.pdf").status_code == 400
    assert dutch.get("/metrics/journeys/999999/tables/moments.csv").status_code == 404
    # too few answers: no chart, no file
    assert dutch.get("/metrics/charts/nps-trend.svg?month=2030-01").status_code == 404


def test_journey_table_in_dutch_csv_and_xlsx_equals_the_page_and_the_data(dutch, small):
    base = f"/metrics/journeys/{small.journey_id}"
    page = dutch.get(f"{base}?segment=business").text
    assert f'href="{base}/tables/moments.csv?segment=business"' in page
    assert f'href="{base}/charts/moments.svg?segment=business"' in page
    rows = _csv(dutch.get(f"{base}/tables/moments.csv?segment=business"))
    assert rows[0][:5] == ["Moment", "Soort", "Norm", "Antwoorden", "Gemiddeld cijfer"]
    by_name = {r[0]: r for r in rows[1:]}
    business = small.frame[small.frame["segment"] == "business"]
    for key, name in (("call", "Bellen"), ("visit", "Bezoek")):
        grades = business[f"m_{key}"].dropna()
        row = by_name[name]
        assert int(row[3]) == len(grades)
        # the mean as the page shows it (one decimal) and to full precision in the file
        assert _number(row[4]) == pytest.approx(grades.mean())
        shown = re.search(rf'data-moment="{key}".*?<strong>([\d,]+)</strong>', page, re.S).group(1)
        assert shown == f"{grades.mean():.1f}".replace(".", ",")
        assert _number(row[7]) == pytest.approx((grades >= 7).mean())
    book = openpyxl.load_workbook(io.BytesIO(dutch.get(f"{base}/tables/moments.xlsx?segment=business").content))
    sheet = book.active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:4] == rows[0][:4]
    assert {r[0]: r[3] for r in values[1:]} == {r[0]: int(r[3]) for r in rows[1:]}
    assert all(isinstance(r[4], float) for r in values[1:])
    svg = dutch.get(f"{base}/charts/moments.svg?segment=business")
    assert svg.status_code == 200 and "Bellen" in svg.text and "Bezoek" in svg.text


def test_moment_tables_count_the_filtered_answers(dutch, small):
    visit = small.moment_ids["visit"]
    base = f"/metrics/moments/{visit}"
    sms = small.frame[(small.frame["channel"] == "sms") & small.frame["m_visit"].notna()]
    grades = _csv(dutch.get(f"{base}/tables/grades.csv?channel=sms"))
    assert grades[0] == ["Cijfer moment", "Aantal"]
    expected = sms["m_visit"].round().astype(int).value_counts()
    assert {int(v): int(n) for v, n in grades[1:]} == {int(k): int(v) for k, v in expected.items()}
    answers = _csv(dutch.get(f"{base}/tables/answers.csv?channel=sms"))
    assert answers[0][0] == "Ingevuld (lokale tijd)" and len(answers) - 1 == len(sms)
    assert sorted(int(_number(r[1])) for r in answers[1:]) == sorted(sms["m_visit"].astype(int))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", answers[1][0])
    png = dutch.get(f"{base}/charts/grades.png?channel=sms")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_survey_tables_and_charts_for_every_user(client, make_user, engine, small):
    from sqlalchemy import update

    from servicepulse.db.session import UnitOfWork
    from servicepulse.models import SurveyVersion

    with UnitOfWork(engine) as s:
        s.execute(update(SurveyVersion).values(definition={"questions": [{"key": "g", "type": "grade"}]}))
    make_user("agent@example.org", role="agent", language="en")
    login(client, "agent@example.org")
    page = client.get("/surveys/repair-end?segment=consumer").text
    assert 'href="/surveys/repair-end/tables/grade.csv?segment=consumer"' in page
    english = client.get("/surveys/repair-end/tables/grade.csv?segment=consumer").content.decode().removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(english)))  # English: commas
    consumer = small.frame[small.frame["segment"] == "consumer"]["grade"].dropna().astype(int).value_counts()
    assert {int(v): int(n) for v, n in rows[1:] if int(n)} == {int(k): int(v) for k, v in consumer.items()}
    assert len(rows) - 1 == 10  # every value of the scale, also those nobody gave
    decisions = client.get("/surveys/repair-end/tables/decisions.xlsx")
    assert decisions.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    svg = client.get("/surveys/repair-end/charts/grade.svg?segment=consumer")
    assert svg.headers["content-type"] == "image/svg+xml"
    ET.fromstring(svg.text.split("?>", 1)[1])
    # the metrics downloads stay with the metrics roles
    assert client.get("/metrics/charts/nps-trend.svg", follow_redirects=False).status_code == 403


@DEMO
def test_drivers_and_predicted_tables_equal_their_pages(client, make_user):
    make_user("an@example.org", role="analyst", language="nl")
    login(client, "an@example.org")
    page = client.get("/metrics/drivers?outcome=grade").text
    rows = _csv(client.get("/metrics/drivers/tables/drivers.csv?outcome=grade"))
    assert rows[0][:3] == ["Factor", "Richting", "Relatief gewicht"] and len(rows) > 2
    for row in rows[1:]:
        weight = _number(row[2])
        # the page shows the weight with one decimal, in the row of the same driver
        cell = re.search(rf'<th scope="row">{re.escape(row[0])}</th>.*?data-label="[^"]*">[^<]*</td>\s*'
                         rf'<td class="num" data-label="[^"]*">([\d,]+)%</td>', unescape(page), re.S)
        assert cell and cell.group(1) == f"{weight:.1f}".replace(".", ","), row[0]
    assert sum(_number(r[2]) for r in rows[1:]) == pytest.approx(100, abs=0.5)  # shares of the explained variance
    for chart in ("weights", "grid"):
        svg = client.get(f"/metrics/drivers/charts/{chart}.svg?outcome=grade")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    predicted = client.get("/metrics/predicted").text
    comparison = _csv(client.get("/metrics/predicted/tables/comparison.csv"))
    n_cell = re.search(r'data-row="all_predicted">.*?<td class="num"[^>]*>([\d.]+)</td>', predicted, re.S).group(1)
    assert int(comparison[3][1]) == int(n_cell.replace(".", ""))
    journeys = _csv(client.get("/metrics/predicted/tables/journeys.csv"))
    assert sum(int(r[1]) for r in journeys[1:]) == int(comparison[3][1])  # every closed case in one journey row
    assert client.get("/metrics/predicted/charts/reliability.png").content[:4] == b"\x89PNG"


def test_a_team_lead_reads_only_the_answers_of_their_teams_redacted(client, make_user, engine, small):
    """The moment's figures are for every viewer; the answers behind them (page and download) are the teams' own
    work, and a comment is shown as everywhere else: redacted."""
    from sqlalchemy import update

    from servicepulse.db.session import UnitOfWork
    from servicepulse.models import Response, TeamMembership

    uid = make_user("lead@example.org", role="teamlead", language="nl")
    with UnitOfWork(engine) as s:
        s.add(TeamMembership(user_id=uid, team_id=small.team_ids["a"], is_lead=True))
        s.execute(update(Response).where(Response.team_id == small.team_ids["a"])
                  .values(comment="Bel me op 06-12345678 of mail jan@example.org"))
    assert login(client, "lead@example.org").status_code == 303
    visit = small.moment_ids["visit"]
    answers = _csv(client.get(f"/metrics/moments/{visit}/tables/answers.csv"))
    own = small.frame[(small.frame["team"] == small.team_ids["a"]) & small.frame["m_visit"].notna()]
    assert len(answers) - 1 == len(own) > 0  # not the other team's, not those of no team
    text = "\n".join(";".join(r) for r in answers)
    assert "06-12345678" not in text and "jan@example.org" not in text and "Bel me op" in text
    page = client.get(f"/metrics/moments/{visit}")
    assert page.status_code == 200 and "06-12345678" not in page.text
