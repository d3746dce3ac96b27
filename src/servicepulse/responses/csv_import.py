"""Importing responses from a CSV export (a helpdesk's CSAT, an IVR): all rows or none.

Columns are mapped to response fields (external_id, customer, case,
submitted_at, language, channel) or to the survey's question keys; a column
whose header already is such a name maps itself. Every row goes through the
same checks as the API; problems are reported per row and column, and if there
is any, nothing is stored (the caller's unit of work rolls back).

Without an external_id column, a row's id is derived from its content, so
importing the same file twice stores nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.responses import service
from servicepulse.responses.items import FIELDS
from servicepulse.surveys import current_specs

ROW_FIELDS = tuple(f for f in FIELDS if f not in ("survey", "answers"))
CHUNK_ROWS = 500
MULTI_SEPARATORS = ("|", ";")
MAX_REPORTED = 1000


@dataclass(frozen=True)
class RowError:
    row: int  # line number in the file; the header is row 1
    column: str | None
    message: str


class CsvImportFailed(ValidationFailed):
    def __init__(self, errors: list[RowError], rows: int):
        self.errors = errors
        self.rows = rows
        shown = "; ".join(f"row {e.row}" + (f", column {e.column!r}" if e.column else "") + f": {e.message}"
                          for e in errors[:3])
        super().__init__(f"{len(errors)} problem(s) in {rows} rows, nothing was imported: {shown}",
                         [(f"row {e.row}" + (f"/{e.column}" if e.column else ""), e.message) for e in errors])


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    replayed: int = 0
    errors: list[RowError] = field(default_factory=list)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`--map column=target` options into {column: target}."""
    mapping = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise ValidationFailed(f"--map {pair!r}: write it as COLUMN=TARGET, e.g. Score=nps", [("--map", pair)])
        mapping[column.strip()] = target.strip()
    return mapping


def import_responses(session: Session, path: Path | str, survey: str, mapping: dict[str, str] | None = None,
                     timezone: str | None = None, channel: str = "csv", delimiter: str | None = None,
                     progress: Callable[[int, int], None] | None = None, now: datetime | None = None,
                     alerts: bool = False) -> ImportSummary:
    """Import every row or none. An import holds historic answers: the alert rules of the closed loop do not
    run on them unless ``alerts`` (the CLI's --alerts) asks for it."""
    path = Path(path)
    zone = _zone(timezone)
    spec = current_specs(session, [survey]).get(survey)
    if spec is None:
        raise ValidationFailed(f"there is no active survey with key {survey!r}", [("--survey", survey)])
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter or _sniff(text))
    headers = [h.strip() for h in (reader.fieldnames or [])]
    if not headers:
        raise ValidationFailed(f"{path}: the file is empty", [("file", "empty")])
    reader.fieldnames = headers
    columns = _resolve_mapping(headers, mapping or {}, set(spec.questions))
    column_of = {target: column for column, target in columns.items()}

    rows = [(reader.line_num, row) for row in reader]
    summary = ImportSummary(rows=len(rows))
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk, lines = [], []
        for line, row in rows[start:start + CHUNK_ROWS]:
            if None in row:
                summary.errors.append(RowError(line, None, "the row has more cells than the header has columns"))
            else:
                chunk.append(_item(row, survey, columns, spec, zone, channel))
                lines.append(line)
        try:
            result = service.ingest(session, chunk, now=now, default_channel=channel, alerts=alerts) if chunk else None
        except (service.IngestRejected, service.IngestConflict) as exc:
            summary.errors += [_row_error(p, lines, column_of) for p in exc.item_problems]
            if len(summary.errors) >= MAX_REPORTED:
                break
        else:
            if result is not None:
                summary.created += result.created_count
                summary.replayed += len(result.created) - result.created_count
        if progress:
            progress(min(start + CHUNK_ROWS, len(rows)), len(rows))
    if summary.errors:
        raise CsvImportFailed(sorted(summary.errors, key=lambda e: e.row), len(rows))
    return summary


def _zone(name: str | None):
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"--timezone {name!r} is not a time zone name such as Europe/Amsterdam",
                               [("--timezone", name)]) from None


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file", [("file", "not found")])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows still writes cp1252 ("Windows-1252") by default.
        return raw.decode("cp1252", errors="replace")


def _sniff(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _resolve_mapping(headers: list[str], mapping: dict[str, str], questions: set[str]) -> dict[str, str]:
    targets = set(ROW_FIELDS) | questions
    problems = []
    columns = {h: h for h in headers if h in targets}
    for column, target in mapping.items():
        if column not in headers:
            problems.append(("--map", f"column {column!r} is not in the file; its columns are {', '.join(headers)}"))
        elif target not in targets:
            problems.append(("--map", f"{target!r} is neither a response field ({', '.join(ROW_FIELDS)}) "
                                      f"nor a question of the survey ({', '.join(sorted(questions))})"))
        else:
            columns = {c: t for c, t in columns.items() if t != target}  # an explicit map wins
            columns[column] = target
    seen: dict[str, str] = {}
    for column, target in columns.items():
        if target in seen:
            problems.append(("--map", f"columns {seen[target]!r} and {column!r} both map to {target!r}"))
        seen[target] = column
    for required in ("customer", "submitted_at"):
        if required not in seen:
            problems.append(("--map", f"no column gives {required}: add --map COLUMN={required}"))
    if not any(t in questions for t in seen):
        problems.append(("--map", "no column maps to a question; add e.g. --map Score=" + sorted(questions)[0]))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    return columns


def _item(row: dict, survey: str, columns: dict[str, str], spec, zone, channel: str) -> dict:
    item: dict = {"survey": survey, "answers": {}}
    for column, target in columns.items():
        value = (row.get(column) or "").strip()
        if target in spec.questions:
            item["answers"][target] = _answer(value, spec.questions[target].type)
        elif value:
            item[target] = value
    if zone is not None and item.get("submitted_at"):
        item["submitted_at"] = _with_zone(item["submitted_at"], zone)
    item.setdefault("channel", channel)
    if "external_id" not in item:
        content = "\x1f".join([survey] + [f"{c}={(row.get(c) or '').strip()}" for c in sorted(columns)])
        item["external_id"] = "csv-" + hashlib.sha256(content.encode()).hexdigest()[:40]
    return item


def _answer(value: str, kind: str):
    if value == "":
        return None
    if kind in ("nps", "grade", "ces", "csat"):
        try:
            return int(value)
        except ValueError:
            return value  # the survey check explains what a score must look like
    if kind == "multi":
        for separator in MULTI_SEPARATORS:
            if separator in value:
                return [v.strip() for v in value.split(separator) if v.strip()]
        return [value]
    return value


def _with_zone(value: str, zone) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # reported by the item check
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.isoformat()


def _row_error(problem, lines: list[int], column_of: dict[str, str]) -> RowError:
    row = lines[problem.index or 0] if problem.index is not None else lines[0]
    field = problem.field
    if field.startswith("answers/"):
        column = column_of.get(field.split("/", 1)[1])
    else:
        column = column_of.get(field) or (None if field in ("", "survey") else f"({field})")
    return RowError(row, column, problem.message)
