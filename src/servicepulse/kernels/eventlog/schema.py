"""The normalised event-log frame: its fields, their source-column aliases and
the vectorised clean-up of raw source values into that frame.

Normalised columns (one row per event, in source order):

==================  ==========================  =================================
column              dtype                       meaning
==================  ==========================  =================================
case_id             str                         case (ticket) identifier
activity            str                         what happened
timestamp           datetime64[us, UTC]         when (tz-aware UTC)
resource            str, nullable               who (agent, system)
team                str, nullable               team / org:group
channel             str, nullable               phone, e-mail, chat, ...
direction           str, nullable               'inbound' / 'outbound'
line                str, nullable               'front' / 'back' (office)
customer_facing     boolean, nullable           did the customer hear something
event_id            str, nullable               external event identifier
attributes          object (dict or None)       every other source column
row                 int64                       1-based source row / event number
file_order          int64                       0-based position in the source
==================  ==========================  =================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import MAX_ROW_ERRORS, EventLogError, RowError, raise_row_errors
from .timestamps import DEFAULT_TZ, TIMESTAMP_DTYPE, parse_timestamps

REQUIRED_FIELDS = ("case_id", "activity", "timestamp")
OPTIONAL_FIELDS = (
    "resource",
    "team",
    "channel",
    "direction",
    "line",
    "customer_facing",
    "event_id",
)
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
COLUMNS = FIELDS + ("attributes", "row", "file_order")

# Source column names accepted without a mapping, best first. XES logs are
# flattened with trace attributes prefixed 'case:' (as pm4py does), so the
# standard XES keys work for every format.
ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "case:concept:name", "case", "ticket_id", "ticket"),
    "activity": ("activity", "concept:name", "activity_name", "event"),
    "timestamp": ("timestamp", "time:timestamp", "time", "datetime"),
    "resource": ("resource", "org:resource", "agent"),
    "team": ("team", "org:group", "group"),
    "channel": ("channel",),
    "direction": ("direction",),
    "line": ("line", "office"),
    "customer_facing": ("customer_facing",),
    "event_id": ("event_id", "identity:id"),
}
XES_DEFAULTS = {
    "case_id": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "resource": "org:resource",
    "team": "org:group",
}

# Every text of an event (fields and attributes) is refused when it holds a control character other than
# tab, line feed and carriage return (C0, DEL, C1) or is not valid Unicode (a lone surrogate from JSON):
# PostgreSQL refuses NUL where SQLite would store it, and none of them is ever meant, so both databases
# see the same events (the same rule as response validation).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Timestamps outside these years are typing or export errors (a zero date, a year 9999 "open end").
EARLIEST_TIMESTAMP = pd.Timestamp("1990-01-01", tz="UTC")
LATEST_TIMESTAMP = pd.Timestamp("2101-01-01", tz="UTC")  # exclusive: 2100 is the last year
MAX_ATTRIBUTES = 200  # other columns per event
MAX_ATTRIBUTE_CHARS = 10_000  # per text of an attribute
MAX_ATTRIBUTE_DEPTH = 20  # nested lists/objects (JSON lines) within an attribute

_DIRECTION = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound", "inkomend": "inbound",
    "outbound": "outbound", "out": "outbound", "outgoing": "outbound", "uitgaand": "outbound",
}
_LINE = {
    "front": "front", "frontoffice": "front", "fo": "front", "firstline": "front",
    "back": "back", "backoffice": "back", "bo": "back", "secondline": "back",
}
_BOOL = {
    "true": True, "t": True, "yes": True, "y": True, "1": True, "ja": True, "j": True,
    "false": False, "f": False, "no": False, "n": False, "0": False, "nee": False,
}


def _key(name: str) -> str:
    """Compare column names ignoring case, spaces, '_' and '-'."""
    return re.sub(r"[\s_\-]", "", str(name).lower())


def parse_mapping(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn CLI ``--map field=column`` items into a mapping dict."""
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise EventLogError(f"mapping '{item}' is not of the form field=column (e.g. case_id=Ticket)")
        mapping[field.strip()] = column.strip()
    return mapping


def resolve_columns(
    available: list[str], mapping: Mapping[str, str] | None, source: str, xes: bool = False
) -> dict[str, str]:
    """Decide which source column feeds each field; raise one clear error if
    a mapping names a missing column or a required field has no column."""
    mapping = dict(mapping or {})
    shown = ", ".join(repr(c) for c in available) or "(none)"
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise EventLogError(
            f"{source}: unknown field(s) in mapping: {', '.join(unknown)}; "
            f"fields are: {', '.join(FIELDS)}"
        )
    present = set(available)
    by_key = {}
    for col in available:
        by_key.setdefault(_key(col), col)
    chosen: dict[str, str] = {}
    for field, column in mapping.items():
        if column not in present:
            raise EventLogError(
                f"{source}: column '{column}' (mapped to {field}) is not in the file; "
                f"available columns: {shown}"
            )
        chosen[field] = column
    used = set(chosen.values())
    for field in FIELDS:
        if field in chosen:
            continue
        candidates = ALIASES[field]
        if xes and field in XES_DEFAULTS:
            candidates = (XES_DEFAULTS[field],) + candidates
        for alias in candidates:
            col = alias if alias in present else by_key.get(_key(alias))
            if col is not None and col not in used:
                chosen[field] = col
                used.add(col)
                break
    missing = [f for f in REQUIRED_FIELDS if f not in chosen]
    if missing:
        hints = "; ".join(
            f"{f} (looked for {', '.join(repr(a) for a in ALIASES[f])})" for f in missing
        )
        raise EventLogError(
            f"{source}: no column found for {hints}. Name the column with a mapping, "
            f"e.g. --map {missing[0]}=COLUMN; available columns: {shown}"
        )
    return chosen


class _Collector:
    """Gathers row errors from vectorised checks, keeping at most the first
    MAX_ROW_ERRORS per check (the final list is capped again after sorting)."""

    def __init__(self, rows: np.ndarray, unit: str):
        self.rows = rows
        self.unit = unit
        self.errors: list[RowError] = []
        self.total = 0

    def add(self, mask: pd.Series | np.ndarray, field: str, values: pd.Series | None, template: str):
        mask = np.asarray(mask, dtype=bool)
        n = int(mask.sum())
        if not n:
            return
        self.total += n
        idx = np.flatnonzero(mask)[:MAX_ROW_ERRORS]
        for i in idx:
            value = None if values is None else values.iloc[i]
            self.errors.append(
                RowError(int(self.rows[i]), field, value, template.format(field=field, value=value), self.unit)
            )


def _distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values; clean-up then runs once per distinct value,
    and equal values end up sharing one string object, which makes every
    later grouping of the column much faster."""
    arr = values.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(arr)
    except TypeError:  # unhashable values (JSON objects/lists): use their text
        arr = np.array([v if v is None or isinstance(v, (str, int, float)) else str(v) for v in arr], dtype=object)
        codes, uniques = pd.factorize(arr)
    return codes, np.asarray(uniques, dtype=object)


def _clean(value) -> str | None:
    text = str(value).strip()
    return text or None


def _text(values: pd.Series) -> pd.Series:
    """Source values as stripped strings; empty becomes missing."""
    codes, uniques = _distinct(values)
    cleaned = np.array([_clean(u) for u in uniques] + [None], dtype=object)
    try:
        return pd.Series(cleaned[codes], index=values.index, dtype="str")  # code -1 -> None
    except UnicodeEncodeError:  # a lone surrogate: an Arrow-backed string cannot hold it; the text check refuses it
        return pd.Series(cleaned[codes], index=values.index, dtype=object)


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored as it is (a control character, not valid Unicode), or None."""
    found = CONTROL_CHARACTERS.search(value)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X}); only tab and line breaks are allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def _check_texts(values: pd.Series, collector: _Collector, field: str) -> None:
    """Row errors for texts with control characters or lone surrogates (checked once per distinct value)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    reasons = [text_problem(u) if isinstance(u, str) else None for u in uniques]
    for reason in dict.fromkeys(r for r in reasons if r):
        bad = np.array([r == reason for r in reasons] + [False])
        collector.add(bad[codes], field, None, "{field} " + reason.replace("{", "{{").replace("}", "}}"))


def _value_problem(value, depth: int = 0) -> str | None:
    """Why an attribute value cannot be stored (recursing into JSON lists and objects), or None."""
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_CHARS:
            return f"is longer than {MAX_ATTRIBUTE_CHARS} characters"
        return text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number"
    if isinstance(value, (list, tuple, dict)):
        if depth >= MAX_ATTRIBUTE_DEPTH:
            return f"is nested more than {MAX_ATTRIBUTE_DEPTH} levels deep"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            reason = (text_problem(key) if isinstance(key, str) else None) or _value_problem(item, depth + 1)
            if reason:
                return reason
    return None


def _coded(values: pd.Series, table: dict, collector: _Collector, field: str, allowed: str) -> pd.Series:
    """Map source values through ``table`` (keys compared without case,
    spaces, '_' and '-'); unknown values are row errors."""
    codes, uniques = _distinct(values)
    texts = [_clean(u) for u in uniques]
    mapped = np.array(
        [None if t is None else table.get(re.sub(r"[\s_\-]", "", t.lower())) for t in texts] + [None],
        dtype=object,
    )
    bad_unique = np.array([t is not None and m is None for t, m in zip(texts, mapped)] + [False])
    shown = pd.Series(np.array(texts + [None], dtype=object)[codes], index=values.index)
    collector.add(bad_unique[codes], field, shown, "{field} '{value}' is not " + allowed)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def normalise(
    raw: pd.DataFrame,
    rows: np.ndarray,
    mapping: Mapping[str, str] | None,
    source: str,
    *,
    unit: str = "row",
    xes: bool = False,
    default_tz: str = DEFAULT_TZ,
    timestamp_format: str | None = None,
    dayfirst: bool = True,
    keep_attributes: bool = True,
) -> pd.DataFrame:
    """Turn a raw table (one column per source column) into the normalised
    frame, or raise `EventLogError` with every bad row."""
    columns = resolve_columns([str(c) for c in raw.columns], mapping, source, xes=xes)
    raw = raw.reset_index(drop=True)
    collector = _Collector(rows, unit)
    n = len(raw)
    out: dict[str, pd.Series] = {}

    for field in ("case_id", "activity"):
        s = _text(raw[columns[field]])
        collector.add(s.isna(), field, None, "{field} is empty")
        _check_texts(s, collector, field)
        out[field] = s
    ts_raw = raw[columns["timestamp"]]
    ts, bad = parse_timestamps(ts_raw, default_tz, timestamp_format, dayfirst)
    collector.add(ts.isna() & ~bad, "timestamp", None, "timestamp is empty")
    collector.add(bad, "timestamp", ts_raw, "timestamp '{value}' is not a date/time")
    collector.add((ts < EARLIEST_TIMESTAMP).fillna(False), "timestamp", ts_raw,
                  f"timestamp '{{value}}' is before {EARLIEST_TIMESTAMP.year}")
    collector.add((ts >= LATEST_TIMESTAMP).fillna(False), "timestamp", ts_raw,
                  f"timestamp '{{value}}' is after {LATEST_TIMESTAMP.year - 1}")
    out["timestamp"] = ts

    for field in ("resource", "team", "channel", "event_id"):
        out[field] = _text(raw[columns[field]]) if field in columns else pd.Series(None, index=raw.index, dtype="str")
        _check_texts(out[field], collector, field)
    out["direction"] = (
        _coded(raw[columns["direction"]], _DIRECTION, collector, "direction", "inbound or outbound")
        if "direction" in columns else pd.Series(None, index=raw.index, dtype="str")
    ).astype("str")
    out["line"] = (
        _coded(raw[columns["line"]], _LINE, collector, "line", "front or back (office)")
        if "line" in columns else pd.Series(None, index=raw.index, dtype="str")
    ).astype("str")
    if "customer_facing" in columns:
        cf = _coded(raw[columns["customer_facing"]], _BOOL, collector, "customer_facing", "yes/no (true/false)")
        out["customer_facing"] = cf.astype("boolean")
    else:
        out["customer_facing"] = pd.Series(pd.NA, index=raw.index, dtype="boolean")

    extra = [c for c in raw.columns if c not in set(columns.values())]
    if keep_attributes and extra:
        _check_attributes(raw, extra, collector)
    raise_row_errors(collector.errors, collector.total, source)

    out["attributes"] = (
        pd.Series(_attribute_dicts(raw, extra), index=raw.index, dtype=object)
        if keep_attributes and extra else pd.Series(None, index=raw.index, dtype=object)
    )
    out["row"] = pd.Series(np.asarray(rows, dtype=np.int64), index=raw.index)
    out["file_order"] = pd.Series(np.arange(n, dtype=np.int64), index=raw.index)
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    for field in ("case_id", "activity"):
        frame[field] = frame[field].astype("str")
    return frame


def _check_attributes(raw: pd.DataFrame, extra: list[str], collector: _Collector) -> None:
    """Row errors for attribute names and values that cannot be stored (see `_value_problem`)."""
    if len(extra) > MAX_ATTRIBUTES:
        collector.add(np.ones(len(raw), dtype=bool), "(columns)", None,
                      f"an event has more than {MAX_ATTRIBUTES} other columns ({len(extra)})")
        return
    for column in extra:
        name_problem = text_problem(str(column))
        if name_problem:
            present = raw[column].notna().to_numpy(dtype=bool)
            collector.add(present, "(column name)", None, "a column name " + name_problem)
            continue
        values = raw[column].to_numpy(dtype=object)
        try:  # each distinct value once; missing ones (None, NaN: an absent key) get code -1 and pass
            codes, uniques = pd.factorize(values)
        except TypeError:  # unhashable values (JSON lists and objects): every value on its own
            codes, uniques = np.arange(len(values)), values
        missing = [u is None or (isinstance(u, float) and u != u) for u in uniques]  # absent, not refused
        reasons = np.array([None if m else _value_problem(u) for u, m in zip(uniques, missing)] + [None],
                           dtype=object)[codes]
        for reason in dict.fromkeys(r for r in reasons if r):
            collector.add(reasons == reason, str(column), None,
                          "{field} " + reason.replace("{", "{{").replace("}", "}}"))


def _attribute_dicts(raw: pd.DataFrame, extra: list[str]) -> list[dict | None]:
    """Per row, the non-missing values of the unmapped columns (None if none)."""
    arrays = [raw[c].to_numpy(dtype=object) for c in extra]
    names = [str(c) for c in extra]
    result = []
    for values in zip(*arrays):
        d = {k: v for k, v in zip(names, values) if v is not None and v == v and v != ""}
        result.append(d or None)
    return result


def empty_frame() -> pd.DataFrame:
    """A normalised frame with no events (correct dtypes)."""
    return pd.DataFrame(
        {
            "case_id": pd.Series(dtype="str"),
            "activity": pd.Series(dtype="str"),
            "timestamp": pd.Series(dtype=TIMESTAMP_DTYPE),
            **{f: pd.Series(dtype="str") for f in ("resource", "team", "channel", "direction", "line")},
            "customer_facing": pd.Series(dtype="boolean"),
            "event_id": pd.Series(dtype="str"),
            "attributes": pd.Series(dtype=object),
            "row": pd.Series(dtype="int64"),
            "file_order": pd.Series(dtype="int64"),
        }
    )
