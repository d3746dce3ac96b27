"""Reading survey definitions from YAML or JSON files, with errors a person can act on."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from servicepulse.errors import ValidationFailed

MAX_FILE_BYTES = 1_000_000


def read_definition_file(path: Path | str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ValidationFailed(f"{path}: no such file", [("file", "not found")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path}: a survey definition may be at most 1 MB", [("file", "too large")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path}: the file is not UTF-8 text", [("file", "not UTF-8")]) from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                               [("file", "invalid JSON")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationFailed(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                               [("file", "invalid YAML")]) from None
    if not isinstance(data, dict):
        raise ValidationFailed(f"{path}: a survey definition must be a mapping with key, name, moment and questions",
                               [("file", "not a mapping")])
    return data
