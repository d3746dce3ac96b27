"""Event validation is as strict as response validation and the same on both databases: control characters
(other than tab and line breaks), texts that are not valid Unicode, over-long values and implausible
timestamps are refused with a message naming the item or row and the field, and nothing is stored --
through the API (POST /api/v1/events) and through `servicepulse import events` (CSV, JSON lines, XES).
A JSON line nested too deeply for the parser is one row error, not a traceback."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.kernels.eventlog import EventLogError, read_event_log

from .conftest import counts

GOOD = {"event_id": "ev-1", "case_id": "K-1", "activity": "Ticket created", "timestamp": "2026-03-02T10:15:00+01:00",
        "team": "Front Office", "channel": "phone"}
# Midnight, so that every xdist worker collects the same test id (a clock value with seconds differed).
NEXT_YEAR = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT00:00:00+00:00")


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("field, value, needle", [
    ("case_id", "K\x00-1", "control character"),
    ("activity", "Ticket\x00created", "control character"),
    ("resource", "agent\x07", "control character"),
    ("team", "Front\x1bOffice", "control character"),
    ("channel", "phone\x7f", "control character"),
    ("event_id", "ev\x00", "control character"),
    ("activity", "Ticket \ud800", "not valid Unicode"),
    ("activity", "x" * 201, "longer than 200"),
    ("case_id", "K" * 101, "longer than 100"),
    ("timestamp", "0001-01-01T00:00:00+00:00", "before 1990"),
    ("timestamp", "1970-01-01T00:00:00Z", "before 1990"),
    ("timestamp", NEXT_YEAR, "in the future"),
    ("timestamp", "9999-12-31T23:59:59-01:00", "timestamp"),
    ("customer", "C\x00", "control character"),
    ("customer", "C" * 101, "longer than 100"),
    ("note", "an attribute with \x00", "control character"),
])
def test_api_refuses_a_bad_value_naming_item_and_field_and_stores_nothing(api, engine, world, field, value, needle):
    batch = [GOOD, {**GOOD, "event_id": "ev-2", field: value}]
    # sent as ASCII JSON: a lone surrogate travels as the escape \ud800, as a client's JSON would carry it
    response = api.post("/api/v1/events", content=json.dumps(batch), headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"/1/{field}" in _fields(response)
    assert needle in json.dumps(response.json()["errors"], ensure_ascii=False)
    assert counts(engine) == (0, 0, 0)


def test_api_keeps_tabs_and_line_breaks_in_texts(api, engine, world):
    response = api.post("/api/v1/events", json={**GOOD, "activity": "Ticket\tcreated", "note": "two\nlines"})
    assert response.status_code == 201, response.text
    assert counts(engine)[0] == 1


def test_api_answers_deeply_nested_json_with_400(api, engine, world):
    response = api.post("/api/v1/events", content=b"[" * 100_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert counts(engine) == (0, 0, 0)


# --- the command line: every file format ------------------------------------------------------------------

def _import(cli, path):
    result = cli("import", "events", str(path))
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_cli_json_lines_with_nul_names_the_row(cli, engine, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "event_id": "ev-2", "activity": "x\x00y"}) + "\n")
    output = _import(cli, path)
    assert "row 2" in output and "activity" in output and "control character" in output
    assert counts(engine) == (0, 0, 0)


def test_cli_deeply_nested_json_line_is_one_line_error(cli, engine, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + "[" * 100_000 + "\n")
    output = _import(cli, path)
    assert "row 2" in output and "nested" in output
    assert "RecursionError" not in output
    assert counts(engine) == (0, 0, 0)


def test_reader_reports_deep_nesting_as_a_row_error(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD) + "\n" + '{"a": ' * 50_000 + "\n")
    with pytest.raises(EventLogError) as info:
        read_event_log(path)
    assert [(e.row, e.field) for e in info.value.errors] == [(2, "(line)")]


def test_cli_csv_with_control_character_names_row_and_field(cli, engine, tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"case_id,activity,timestamp\nA,created,2026-01-01 10:00\nA,clo\x01sed,2026-01-02 10:00\n")
    output = _import(cli, path)
    assert "row 3" in output and "activity" in output and "control character" in output
    assert counts(engine) == (0, 0, 0)


def test_cli_csv_with_far_timestamp_names_row(cli, engine, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("case_id,activity,timestamp\nA,created,2026-01-01 10:00\nA,closed,1900-01-02 10:00\n")
    output = _import(cli, path)
    assert "row 3" in output and "before 1990" in output
    assert counts(engine) == (0, 0, 0)


def test_cli_xes_with_control_character_names_the_event(cli, engine, tmp_path):
    xes = ('<?xml version="1.0" encoding="UTF-8"?><log xes.version="1.0">'
           '<trace><string key="concept:name" value="A"/>'
           '<event><string key="concept:name" value="created"/><date key="time:timestamp" value="2026-01-01T10:00:00+01:00"/></event>'
           '<event><string key="concept:name" value="clo&#x85;sed"/><date key="time:timestamp" value="2026-01-02T10:00:00+01:00"/></event>'
           '</trace></log>')
    path = tmp_path / "events.xes.gz"
    path.write_bytes(gzip.compress(xes.encode()))
    output = _import(cli, path)
    assert "event 2" in output and "control character" in output
    assert counts(engine) == (0, 0, 0)
