"""CSV/XLSX exports cannot smuggle a formula into a spreadsheet (OWASP "CSV Injection").

The one helper (servicepulse.kernels.spreadsheet) on its own, then every export that writes CSV, with a
project named like an attack: the improvement scan from its page (/improvement/scan.csv) and from the
CLI (`servicepulse report scan --out FILE.csv`). There is no XLSX export today; one would use the same helper.
"""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from servicepulse.cli import app as cli_app
from servicepulse.db.session import UnitOfWork
from servicepulse.improvement import service
from servicepulse.kernels.spreadsheet import FORMULA_STARTS, safe_cell, safe_row
from servicepulse.settings import get_settings
from tests.improvement.test_scan import engine, journey  # noqa: F401  (fixtures: the database holding a journey with graded moments)
from tests.web.conftest import app, client, fast_password_hashing, login, make_user, settings  # noqa: F401

ATTACK = '=HYPERLINK("http://x")'
OWNER = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(("value", "expected"), [
    (ATTACK, "'" + ATTACK),
    ("+31 6 12345678", "'+31 6 12345678"),  # a phone number is text, not a sum
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("- a bullet", "'- a bullet"),
    # plain numbers stay numbers, negative ones included
    ("-12.5", "-12.5"), ("-3", "-3"), ("+4", "+4"), ("-0,75", "-0,75"), ("-1.5e-3", "-1.5e-3"), ("-.5", "-.5"),
    # everything else passes unchanged
    ("Clear invoice", "Clear invoice"), ("", ""), ("a = b", "a = b"), (-7, -7), (2.5, 2.5), (None, None),
])
def test_a_cell_that_a_spreadsheet_would_run_gets_an_apostrophe(value, expected):
    assert safe_cell(value) == expected


def test_a_row_is_made_safe_cell_by_cell():
    assert safe_row([1, ATTACK, "-1.25", "ok"]) == [1, "'" + ATTACK, "-1.25", "ok"]


def _assert_no_formula(text: str, *, expect_titles: int) -> None:
    text = text.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if text.startswith("project_id;") else ","))
    header, body = rows[0], rows[1:]
    assert len(body) == expect_titles
    for row in body:
        cells = dict(zip(header, row, strict=True))
        assert cells["title"] == "'" + ATTACK and cells["owner"] == "'" + OWNER
        risky = {column: cell for column, cell in cells.items() if cell.startswith(FORMULA_STARTS)}
        for cell in risky.values():
            float(cell.replace(",", "."))  # only a plain number may start like a formula
        float(cells["expected_lift"].replace(",", "."))  # and the figures are still numbers a spreadsheet can add up


def _attack_project(engine, moment_id: int) -> None:
    with UnitOfWork(engine) as s:
        service.create_project(s, service.ProjectInput(title=ATTACK, owner=OWNER, cost=1000.0,
                                                       expected_improvement=0.8, moment_ids=(moment_id,)))


def test_the_scan_csv_page_is_safe(client, make_user, engine, journey):  # noqa: F811
    _, moments = journey
    _attack_project(engine, moments["invoice"])
    make_user("ana@example.org", role="analyst", language="en")
    login(client, "ana@example.org")
    exported = client.get("/improvement/scan.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    _assert_no_formula(exported.text, expect_titles=1)


def test_the_scan_csv_from_the_cli_is_safe(engine, journey, tmp_path, monkeypatch):  # noqa: F811
    _, moments = journey
    _attack_project(engine, moments["visit"])
    monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        out = tmp_path / "scan.csv"
        result = CliRunner().invoke(cli_app, ["report", "scan", "--out", str(out)])
        assert result.exit_code == 0, result.output
        _assert_no_formula(out.read_text(encoding="utf-8"), expect_titles=1)
    finally:
        get_settings.cache_clear()
