"""Readers: CSV, JSON lines and XES into the normalised frame; row-level errors."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from servicepulse.kernels.eventlog import EventLogError, parse_mapping, read_event_log


def write(path, text: str, gz: bool = False):
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


CSV = """Ticket,Step,When,Agent,Team,Kanaal,Dir,Office,Facing,Priority
T1,Call,2025-03-07 21:00,ann,Front,phone,in,front office,yes,high
T1,Close,2025-03-08T15:00:00+01:00,bob,Back,,,BO,no,
T2,Call,2025-10-26 02:30,cas,Front,chat,inbound,front,true,low
"""


def test_csv_with_mapping_and_timezones(tmp_path):
    path = write(tmp_path / "log.csv", CSV)
    mapping = parse_mapping(
        ["case_id=Ticket", "activity=Step", "timestamp=When", "resource=Agent", "channel=Kanaal",
         "direction=Dir", "line=Office", "customer_facing=Facing"]
    )
    df = read_event_log(path, mapping=mapping)
    assert df["case_id"].tolist() == ["T1", "T1", "T2"]
    # naive local Amsterdam time (CET, +01:00) -> 20:00 UTC
    assert df["timestamp"].iloc[0] == pd.Timestamp("2025-03-07 20:00", tz="UTC")
    assert df["timestamp"].iloc[1] == pd.Timestamp("2025-03-08 14:00", tz="UTC")
    # 02:30 on the night clocks go back is ambiguous: read as summer time (+02:00)
    assert df["timestamp"].iloc[2] == pd.Timestamp("2025-10-26 00:30", tz="UTC")
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["team"].tolist() == ["Front", "Back", "Front"]  # found by name without mapping
    assert df["direction"].tolist()[0] == "inbound" and pd.isna(df["direction"].iloc[1])
    assert df["line"].tolist() == ["front", "back", "front"]
    assert df["customer_facing"].tolist() == [True, False, True]
    assert df["attributes"].iloc[0] == {"Priority": "high"}
    assert df["attributes"].iloc[1] is None
    assert df["row"].tolist() == [2, 3, 4]  # spreadsheet rows, header is row 1
    assert df["file_order"].tolist() == [0, 1, 2]


def test_default_tz_is_a_parameter(tmp_path):
    path = write(tmp_path / "log.csv", "case_id,activity,timestamp\nA,x,2025-03-07 21:00\n")
    df = read_event_log(path, default_tz="UTC")
    assert df["timestamp"].iloc[0] == pd.Timestamp("2025-03-07 21:00", tz="UTC")


def test_semicolon_csv_with_xes_style_names_and_day_first_dates(tmp_path):
    text = "case:concept:name;concept:name;time:timestamp;org:resource;org:group\nA;x;25-11-2026 09:30;r;g\n"
    df = read_event_log(write(tmp_path / "log.csv", text))
    assert df.loc[0, "timestamp"] == pd.Timestamp("2026-11-25 08:30", tz="UTC")
    assert (df.loc[0, "resource"], df.loc[0, "team"]) == ("r", "g")


def test_every_bad_row_is_reported(tmp_path):
    text = (
        "case_id,activity,timestamp,direction\n"
        "A,call,2020-02-01 10:00,in\n"
        ",call,2020-02-01 10:00,in\n"
        "A,call,31-02-2020,in\n"
        "A,,2020-02-01 10:00,sideways\n"
    )
    with pytest.raises(EventLogError) as info:
        read_event_log(write(tmp_path / "log.csv", text))
    err = info.value
    assert err.error_count == 4
    messages = [str(e) for e in err.errors]
    assert messages == [
        "row 3: case_id is empty",
        "row 4: timestamp '31-02-2020' is not a date/time",
        "row 5: activity is empty",
        "row 5: direction 'sideways' is not inbound or outbound",
    ]
    assert (err.errors[1].row, err.errors[1].field, err.errors[1].value) == (4, "timestamp", "31-02-2020")
    assert "row 4: timestamp '31-02-2020'" in err.summary()


def test_error_list_is_capped_but_counted(tmp_path):
    lines = ["case_id,activity,timestamp"] + [f"c{i},a,not a date" for i in range(250)]
    with pytest.raises(EventLogError) as info:
        read_event_log(write(tmp_path / "log.csv", "\n".join(lines) + "\n"))
    assert info.value.error_count == 250
    assert len(info.value.errors) == 100
    assert "... and 150 more" in info.value.summary()


def test_mapping_to_missing_column_names_it_and_lists_columns(tmp_path):
    path = write(tmp_path / "log.csv", "Ticket,Step,When\nA,x,2020-01-01\n")
    with pytest.raises(EventLogError) as info:
        read_event_log(path, mapping={"case_id": "Tiket", "activity": "Step", "timestamp": "When"})
    msg = str(info.value)
    assert "'Tiket'" in msg and "case_id" in msg
    assert "'Ticket', 'Step', 'When'" in msg
    assert info.value.errors == []


def test_missing_required_column_without_mapping(tmp_path):
    path = write(tmp_path / "log.csv", "Zaak,activity,timestamp\nA,x,2020-01-01\n")
    with pytest.raises(EventLogError, match=r"no column found for case_id.*--map case_id=COLUMN"):
        read_event_log(path)


def test_bad_mapping_syntax():
    with pytest.raises(EventLogError, match="field=column"):
        parse_mapping(["case_id"])


def test_jsonl_reports_bad_lines_with_line_numbers(tmp_path):
    good = [{"case_id": 17, "activity": "call", "timestamp": "2024-01-02T10:00:00Z", "extra": {"k": 1}}]
    text = json.dumps(good[0]) + "\n\n" + "{broken\n" + json.dumps({"case_id": "B", "activity": "x", "timestamp": "nope"}) + "\n"
    with pytest.raises(EventLogError) as info:
        read_event_log(write(tmp_path / "log.ndjson", text))
    assert [(e.row, e.field) for e in info.value.errors] == [(3, "(line)"), (4, "timestamp")]
    nested = {"case_id": "C", "activity": "x", "timestamp": "2024-01-02T10:00:00Z", "team": {"name": "Front"}}
    df = read_event_log(write(tmp_path / "ok.jsonl", json.dumps(good[0]) + "\n" + json.dumps(nested) + "\n"))
    assert df.loc[1, "team"] == "{'name': 'Front'}"  # kept as text, not a crash
    assert df.loc[0, "case_id"] == "17"  # JSON numbers become text ids
    assert df.loc[0, "attributes"] == {"extra": {"k": 1}}
    assert df.loc[0, "timestamp"] == pd.Timestamp("2024-01-02 10:00", tz="UTC")


XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="C1"/>
    <event>
      <string key="concept:name" value="Open"/>
      <string key="org:resource" value="ann"/>
      <string key="org:group" value="Front"/>
      <date key="time:timestamp" value="2020-01-01T10:00:00.000+01:00"/>
      <int key="cost" value="12"/>
    </event>
    <event>
      <string key="concept:name" value="Close"/>
      <date key="time:timestamp" value="2020-01-02T10:00:00Z"/>
    </event>
  </trace>
  <trace>
    <event>
      <string key="concept:name" value="Open"/>
      <date key="time:timestamp" value="bad"/>
    </event>
    <string key="concept:name" value="C2"/>
  </trace>
</log>
"""


@pytest.mark.parametrize("gz,name", [(False, "log.xes"), (True, "log.xes.gz"), (True, "looks_plain.xes")])
def test_xes_plain_and_gzipped(tmp_path, gz, name):
    path = write(tmp_path / name, XES.replace('value="bad"', 'value="2020-01-03T00:00:00+00:00"'), gz=gz)
    df = read_event_log(path)
    assert df["case_id"].tolist() == ["C1", "C1", "C2"]  # trace name after its events still counts
    assert df["activity"].tolist() == ["Open", "Close", "Open"]
    assert df["timestamp"].tolist() == [
        pd.Timestamp("2020-01-01 09:00", tz="UTC"),
        pd.Timestamp("2020-01-02 10:00", tz="UTC"),
        pd.Timestamp("2020-01-03 00:00", tz="UTC"),
    ]
    assert df.loc[0, "resource"] == "ann" and df.loc[0, "team"] == "Front"
    assert df.loc[0, "attributes"] == {"cost": 12}
    assert df["row"].tolist() == [1, 2, 3]


def test_xes_bad_event_is_reported_as_event(tmp_path):
    with pytest.raises(EventLogError) as info:
        read_event_log(write(tmp_path / "log.xes", XES))
    assert [str(e) for e in info.value.errors] == ["event 3: timestamp 'bad' is not a date/time"]


def test_xes_mapping_to_other_attribute(tmp_path):
    path = write(tmp_path / "log.xes", XES.replace('value="bad"', 'value="2020-01-03T00:00:00+00:00"'))
    df = read_event_log(path, mapping={"resource": "org:group"})
    assert df.loc[0, "resource"] == "Front"


def test_not_xes_gives_clear_error(tmp_path):
    with pytest.raises(EventLogError, match=r"not an XES event log.*<html>"):
        read_event_log(write(tmp_path / "page.xes", "<html><body>hi</body></html>"))
    with pytest.raises(EventLogError, match="not a readable XES file"):
        read_event_log(write(tmp_path / "text.xes", "case_id,activity\n"))


def test_format_detection_and_override(tmp_path):
    with pytest.raises(EventLogError, match="cannot tell the format"):
        read_event_log(write(tmp_path / "log.dat", "x"))
    path = write(tmp_path / "log.dat", "case_id,activity,timestamp\nA,x,2020-01-01T00:00Z\n", gz=True)
    assert len(read_event_log(path, format="csv")) == 1


def test_not_utf8(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes("case_id,activity,timestamp\nA,caf\u00e9,2020-01-01\n".encode("cp1252"))
    with pytest.raises(EventLogError, match="not utf-8-sig text"):
        read_event_log(path)
    assert read_event_log(path, encoding="cp1252").loc[0, "activity"] == "caf\u00e9"


@pytest.mark.parametrize(
    "values,expected_utc",
    [
        # all naive: local Amsterdam time; spring-forward gap shifted to 03:00 CEST
        (["2025-03-30 02:30", " 2025-01-01 00:00 "], ["2025-03-30 01:00", "2024-12-31 23:00"]),
        # all with one offset
        (["2025-01-01T10:00+01:00", "2025-01-01T11:00+01:00"], ["2025-01-01 09:00", "2025-01-01 10:00"]),
        # offsets differ across DST, plus a naive and a Zulu value
        (["2025-01-01T10:00+01:00", "2025-07-01T10:00+02:00", "2025-07-01 10:00", "2025-07-01T10:00Z"],
         ["2025-01-01 09:00", "2025-07-01 08:00", "2025-07-01 08:00", "2025-07-01 10:00"]),
        # non-ISO day-first mixed with ISO
        (["01-02-2025 10:00", "2025-02-01T10:00"], ["2025-02-01 09:00", "2025-02-01 09:00"]),
    ],
)
def test_timestamp_mixtures(tmp_path, values, expected_utc):
    text = "case_id,activity,timestamp\n" + "".join(f'A,x,"{v}"\n' for v in values)
    df = read_event_log(write(tmp_path / "log.csv", text))
    assert df["timestamp"].tolist() == [pd.Timestamp(e, tz="UTC") for e in expected_utc]


def test_explicit_timestamp_format(tmp_path):
    text = "case_id,activity,timestamp\nA,x,02/01/2025 10:00\nA,y,2025-01-02 10:00\n"
    with pytest.raises(EventLogError) as info:
        read_event_log(write(tmp_path / "log.csv", text), timestamp_format="%m/%d/%Y %H:%M")
    assert [str(e) for e in info.value.errors] == ["row 3: timestamp '2025-01-02 10:00' is not a date/time"]


def test_stream_input_needs_format_and_is_read(tmp_path):
    import io

    data = gzip.compress(b"case_id,activity,timestamp\nA,x,2020-01-01T00:00Z\n")
    with pytest.raises(EventLogError, match="give the format"):
        read_event_log(io.BytesIO(data))
    df = read_event_log(io.BytesIO(data), format="csv")
    assert df["case_id"].tolist() == ["A"]


def test_duplicate_header_and_ragged_rows(tmp_path):
    with pytest.raises(EventLogError, match="'activity' appear more than once"):
        read_event_log(write(tmp_path / "a.csv", "case_id,activity,activity,timestamp\nA,x,y,2020-01-01\n"))
    with pytest.raises(EventLogError, match="row 3 has 4 fields, expected 3"):
        read_event_log(write(tmp_path / "b.csv", "case_id,activity,timestamp\nA,x,2020-01-01\nB,y,2020-01-02,z\n"))

    with pytest.raises(EventLogError, match=r"header has 3 columns but row\(s\) 2 have more fields"):
        read_event_log(write(tmp_path / "c.csv", "case_id,activity,timestamp\nA,x,2020-01-01,z\nB,y,2020-01-02\n"))
