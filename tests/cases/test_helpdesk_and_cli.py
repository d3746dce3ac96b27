"""The Helpdesk log through the CLI and the database, against pm4py computed in the same test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servicepulse.kernels.eventlog import log_stats, variant_counts
from tests.kernels.eventlog.test_pm4py_parity import assert_same, pm4py_figures

from .conftest import counts, stored_frame

pm4py = pytest.importorskip("pm4py")

HELPDESK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"


@pytest.fixture(scope="module")
def reference():
    if not HELPDESK.exists():
        pytest.skip(f"reference log not found at {HELPDESK}")
    return pm4py_figures(pm4py.read_xes(str(HELPDESK)))


def test_log_stats_cli_json_equals_pm4py(reference):
    from typer.testing import CliRunner

    from servicepulse.cli import app

    result = CliRunner().invoke(app, ["log", "stats", str(HELPDESK), "--json"])
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)
    assert set(ours) == {"cases", "events", "variants", "throughput_days", "activities", "directly_follows"}
    assert ours["variants"] == len(reference["variants"])
    assert_same(ours, {**reference}, {tuple(k): int(v) for k, v in reference["variants"].items()})


def test_import_helpdesk_then_stats_from_db_equal_pm4py(cli, engine, reference):
    result = cli("import", "events", str(HELPDESK))
    assert result.exit_code == 0, result.output
    assert counts(engine) == (21348, 4580, 4580)
    frame = stored_frame(engine)
    assert_same(log_stats(frame), reference, variant_counts(frame))
    again = cli("import", "events", str(HELPDESK))  # idempotent without event ids
    assert again.exit_code == 0 and "0 events stored" in again.stdout
    assert counts(engine) == (21348, 4580, 4580)


@pytest.mark.parametrize("content, args, needle", [
    ("case_id,activity,timestamp\nA,x,2026-01-01 10:00\nA,y,31-02-2026\n,z,2026-01-02\n", [],
     "row 3"),
    ("Ticket,activity,timestamp\nA,x,2026-01-01 10:00\n", ["--map", "case_id=Ticket", "--map", "team=Group"],
     "'Group'"),
    ("<log><nothing/></log>", ["--format", "xes"], "XES"),
])
def test_bad_files_exit_non_zero_and_write_nothing(cli, engine, tmp_path, content, args, needle):
    path = tmp_path / "events.csv"
    path.write_text(content)
    before = counts(engine)
    result = cli("import", "events", str(path), *args)
    assert result.exit_code != 0
    assert needle in result.output
    assert "Traceback" not in result.output
    assert counts(engine) == before


def test_bad_row_report_names_rows_and_fields(cli, engine, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("case_id,activity,timestamp\nA,x,2026-01-01 10:00\nA,y,not a time\n,z,2026-01-02\n")
    result = cli("import", "events", str(path))
    assert result.exit_code == 1
    assert "timestamp 'not a time' is not a date/time" in result.output
    assert "case_id is empty" in result.output
    assert counts(engine) == (0, 0, 0)
