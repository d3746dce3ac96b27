"""CSV import: mapping, row-level error report, all or nothing, and the CLI around it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.models import Response
from servicepulse.responses import csv_import
from tests.cli.conftest import cli, url_of  # noqa: F401  (fixture)

GOOD = """Klantnummer;Datum;Moeite;Cijfer;Toelichting;Opgelost
C-1;2026-03-02 10:15;6;8;Vlot geholpen;yes
C-2;2026-03-02 11:00;2;4;"Drie keer gebeld; niemand belde terug";no
NEW-3;2026-03-03 09:30;7;;;
"""
MAPPING = ["Klantnummer=customer", "Datum=submitted_at", "Moeite=ces", "Cijfer=grade", "Toelichting=why",
           "Opgelost=resolved"]


def stored(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Response))


def run_import(engine, path, mapping=MAPPING, timezone="Europe/Amsterdam", **kw):
    with UnitOfWork(engine) as s:
        return csv_import.import_responses(s, path, "after_contact", csv_import.parse_mapping(mapping),
                                           timezone=timezone, **kw)


def test_import_with_mapping_and_local_time(engine, world, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(GOOD, encoding="utf-8")
    summary = run_import(engine, path)
    assert (summary.rows, summary.created, summary.replayed) == (3, 3, 0)
    with engine.connect() as conn:
        rows = conn.execute(select(Response.ces, Response.grade, Response.comment, Response.submitted_at,
                                   Response.channel).order_by(Response.submitted_at)).all()
    assert [(r.ces, r.grade, r.comment) for r in rows] == [
        (6, 8, "Vlot geholpen"), (2, 4, "Drie keer gebeld; niemand belde terug"), (7, None, None)]
    assert rows[0].submitted_at.isoformat() == "2026-03-02T09:15:00+00:00"  # 10:15 in Amsterdam (CET)
    assert {r.channel for r in rows} == {"csv"}
    # The same file again: ids are derived from row content, so nothing is stored twice.
    again = run_import(engine, path)
    assert (again.created, again.replayed) == (0, 3) and stored(engine) == 3


def test_row_errors_name_row_and_column_and_nothing_is_imported(engine, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "C-4;2026-03-04 08:00;9;7,5;;maybe\nC-5;gisteren;3;5;;\nC-6;2026-03-04 08:00;3;5;;;extra\n",
                    encoding="utf-8")
    with pytest.raises(csv_import.CsvImportFailed) as info:
        run_import(engine, path)
    errors = {(e.row, e.column): e.message for e in info.value.errors}
    assert errors[(5, "Moeite")] == "9 is out of range: a ces score runs from 1 to 7"
    assert "whole number" in errors[(5, "Cijfer")] and "'7,5'" in errors[(5, "Cijfer")]
    assert "not an option" in errors[(5, "Opgelost")]
    assert "not an ISO 8601" in errors[(6, "Datum")]
    assert "more cells" in errors[(7, None)]
    assert len(errors) == 5
    assert [e.row for e in info.value.errors] == [5, 5, 5, 6, 7]  # in file order
    assert stored(engine) == 0  # the three good rows were not imported either


@pytest.mark.parametrize("mapping, words", [
    (["Klantnummer=customer", "Datum=submitted_at", "Moeite=ces", "Nope=grade"], "'Nope' is not in the file"),
    (["Klantnummer=customer", "Datum=submitted_at", "Moeite=stars"], "neither a response field"),
    (["Klantnummer=customer", "Moeite=ces"], "no column gives submitted_at"),
    (["Klantnummer=customer", "Datum=submitted_at"], "no column maps to a question"),
    (["Klantnummer"], "COLUMN=TARGET"),
])
def test_mapping_mistakes(engine, world, tmp_path, mapping, words):
    path = tmp_path / "export.csv"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ValidationFailed, match=words):
        run_import(engine, path, mapping)


def test_unknown_survey_and_time_zone(engine, world, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(GOOD, encoding="utf-8")
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed, match="no active survey with key 'nope'"):
        csv_import.import_responses(s, path, "nope", csv_import.parse_mapping(MAPPING))
    with pytest.raises(ValidationFailed, match="not a time zone name"):
        run_import(engine, path, timezone="Mars/Olympus")


def test_cli_reports_rows_and_exits_non_zero(cli, engine, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GOOD + "C-4;2026-03-04 08:00;9;7;;\n", encoding="utf-8")
    maps = [arg for pair in MAPPING for arg in ("--map", pair)]
    args = ("import", "responses", str(path), "--survey", "after_contact", *maps, "--timezone", "Europe/Amsterdam")
    failed = cli(url_of(engine), *args)
    assert failed.code == 1, failed.err
    assert "nothing was imported" in failed.err and "Moeite" in failed.err and "out of range" in failed.err
    assert "Traceback" not in failed.err
    assert stored(engine) == 0
    path.write_text(GOOD, encoding="utf-8")
    ok = cli(url_of(engine), *args)
    assert ok.code == 0, ok.err
    assert "imported 3 new responses from 3 rows" in ok.out
