"""Read case event logs from CSV, JSON lines and XES into the normalised frame
described in `servicepulse.kernels.eventlog.schema`.

Formats are chosen by extension (``.csv``/``.tsv``, ``.jsonl``/``.ndjson``,
``.xes``, each optionally ``.gz``) unless ``format`` is given. Gzip is detected
by its magic bytes, whatever the name. Row numbers in error messages: CSV rows
as a spreadsheet shows them (header = row 1), JSON lines by line number, XES
events by their 1-based position in the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from .errors import MAX_ROW_ERRORS, EventLogError, RowError
from .schema import normalise
from .timestamps import DEFAULT_TZ
from .xes import read_xes_frame

FORMATS = ("csv", "jsonl", "xes")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".xes": "xes"}
_GZIP_MAGIC = b"\x1f\x8b"


def detect_format(path: str | Path) -> str:
    """'csv', 'jsonl' or 'xes' from the file name (a trailing .gz is ignored)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise EventLogError(
            f"{Path(path).name}: cannot tell the format from the file name; "
            f"use .csv, .jsonl/.ndjson or .xes (optionally .gz), or give the format "
            f"explicitly ({', '.join(FORMATS)})"
        )
    return fmt


def _open_binary(source: str | Path | IO[bytes]) -> IO[bytes]:
    """A binary stream of the (decompressed) content."""
    if isinstance(source, (str, Path)):
        try:
            handle: IO[bytes] = open(source, "rb")
        except OSError as exc:
            raise EventLogError(f"{Path(source).name}: cannot open the file ({exc.strerror})") from None
    else:
        handle = source
    buffered = handle if hasattr(handle, "peek") else io.BufferedReader(handle)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[return-value]
    return buffered


def read_event_log(
    source: str | Path | IO[bytes],
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    *,
    default_tz: str = DEFAULT_TZ,
    timestamp_format: str | None = None,
    dayfirst: bool = True,
    delimiter: str | None = None,
    encoding: str = "utf-8-sig",
    keep_attributes: bool = True,
) -> pd.DataFrame:
    """Read an event log file into the normalised frame.

    ``mapping`` maps field names to source columns (``{"case_id": "Ticket"}``);
    unmapped fields are found by name or common alias (see ``schema.ALIASES``).
    Naive timestamps are taken as local time in ``default_tz``
    (Europe/Amsterdam unless given). Raises `EventLogError` with the full
    (capped) list of bad rows, or a single clear message for file-level
    problems; never returns a partly read log.
    """
    name = Path(source).name if isinstance(source, (str, Path)) else getattr(source, "name", "input")
    name = Path(str(name)).name
    if format is None:
        if not isinstance(source, (str, Path)):
            raise EventLogError(f"{name}: give the format ({', '.join(FORMATS)}) when reading from a stream")
        format = detect_format(source)
    format = format.lower().lstrip(".")
    format = {"ndjson": "jsonl", "json": "jsonl", "tsv": "csv", "xes.gz": "xes"}.get(format, format)
    if format not in FORMATS:
        raise EventLogError(f"{name}: unknown format '{format}'; use one of {', '.join(FORMATS)}")
    options = dict(default_tz=default_tz, timestamp_format=timestamp_format,
                   dayfirst=dayfirst, keep_attributes=keep_attributes)
    stream = _open_binary(source)
    raw_handle = getattr(stream, "fileobj", None) or stream
    try:
        if format == "csv":
            return _read_csv(stream, name, mapping, delimiter, encoding, options)
        if format == "jsonl":
            return _read_jsonl(stream, name, mapping, encoding, options)
        return _read_xes(stream, name, mapping, options)
    finally:
        if isinstance(source, (str, Path)):
            stream.close()
            raw_handle.close()


def _read_xes(stream, name, mapping, options) -> pd.DataFrame:
    raw = read_xes_frame(stream, name)
    if raw.empty:
        raise EventLogError(f"{name}: the XES log contains no events")
    rows = np.arange(1, len(raw) + 1, dtype=np.int64)
    return normalise(raw, rows, mapping, name, unit="event", xes=True, **options)


def _sniff_delimiter(header: str) -> str:
    """The most frequent of , ; tab | in the header line (Dutch Excel writes ';')."""
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(stream, name, mapping, delimiter, encoding, options) -> pd.DataFrame:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        header = text.readline()
        if not header.strip():
            raise EventLogError(f"{name}: the file is empty (no header row)")
        sep = delimiter or _sniff_delimiter(header)
        rest = pd.read_csv(
            text, sep=sep, dtype=object, keep_default_na=False, header=None,
            skip_blank_lines=True, quoting=csv.QUOTE_MINIMAL, engine="c",
        )
    except UnicodeDecodeError as exc:
        raise EventLogError(
            f"{name}: the file is not {encoding} text ({exc.reason} at byte {exc.start}); "
            "save it as UTF-8 or give the encoding"
        ) from None
    except pd.errors.EmptyDataError:
        rest = pd.DataFrame()
    except pd.errors.ParserError as exc:
        raise EventLogError(f"{name}: the CSV cannot be read: {_csv_message(exc)}") from None
    finally:
        text.detach()
    columns = next(csv.reader([header], delimiter=sep))
    columns = [c.strip() for c in columns]
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise EventLogError(f"{name}: column name(s) {', '.join(repr(c) for c in twice)} appear more than once in the header")
    if rest.shape[1] > len(columns):
        extra = rest.iloc[:, len(columns):]
        long_rows = np.flatnonzero((extra.notna() & (extra != "")).any(axis=1).to_numpy()) + 2
        where = ", ".join(str(r) for r in long_rows[:10]) + (" ..." if len(long_rows) > 10 else "")
        raise EventLogError(
            f"{name}: the header has {len(columns)} columns but row(s) {where} have more fields"
        )
    if rest.empty:
        raise EventLogError(f"{name}: the file has a header but no rows")
    rest = rest.reindex(columns=range(len(columns)))
    rest.columns = columns
    # header = spreadsheet row 1; blank lines are skipped by pandas, which is
    # what spreadsheets do not do, so numbers are exact for files without them.
    rows = np.arange(2, len(rest) + 2, dtype=np.int64)
    return normalise(rest, rows, mapping, name, unit="row", **options)


def _csv_message(exc: Exception) -> str:
    msg = str(exc).strip()
    # pandas counts lines after the header we consumed; make it a file row.
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        return f"row {int(m.group(2)) + 1} has {m.group(3)} fields, expected {m.group(1)}"
    return msg


def _json_problem(exc: Exception) -> str:
    """Why a JSON line was refused, in one line."""
    if isinstance(exc, RecursionError):  # '[' * 100000: deeper than the parser goes
        return "not valid JSON (nested too deeply)"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg})"
    if "digits" in str(exc):  # Python refuses integers of more than 4300 digits
        return "not valid JSON (a number with too many digits)"
    return f"not valid JSON ({str(exc).splitlines()[0][:120]})"


def _read_jsonl(stream, name, mapping, encoding, options) -> pd.DataFrame:
    decoder = codecs.getreader(encoding)(stream)
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[RowError] = []
    bad = 0
    try:
        for lineno, line in enumerate(decoder, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:
                bad += 1
                if len(errors) < MAX_ROW_ERRORS:
                    errors.append(RowError(lineno, "(line)", line.strip()[:80], _json_problem(exc)))
                continue
            if not isinstance(obj, dict):
                bad += 1
                if len(errors) < MAX_ROW_ERRORS:
                    errors.append(RowError(lineno, "(line)", line.strip()[:80], "not a JSON object"))
                continue
            records.append(obj)
            rows.append(lineno)
    except UnicodeDecodeError as exc:
        raise EventLogError(
            f"{name}: the file is not {encoding} text ({exc.reason}); save it as UTF-8 or give the encoding"
        ) from None
    if not records and not bad:
        raise EventLogError(f"{name}: the file contains no events")
    frame = None
    if records:
        raw = pd.DataFrame(records, dtype=object)
        try:
            frame = normalise(raw, np.asarray(rows, dtype=np.int64), mapping, name, unit="row", **options)
        except EventLogError as exc:
            if not exc.errors:  # file-level problem (e.g. a missing column) comes first
                raise
            errors = errors + exc.errors
            bad += exc.error_count
    if bad:
        shown = sorted(errors, key=lambda e: (e.row, e.field))[:MAX_ROW_ERRORS]
        raise EventLogError(
            f"{name}: {bad} problem(s) found; nothing was read. Fix these rows:", shown, bad
        )
    return frame
