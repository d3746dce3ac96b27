"""A table of figures as CSV or XLSX that a spreadsheet opens with its numbers as numbers.

A Dutch spreadsheet reads ``;`` as the column separator and ``,`` as the decimal sign: a CSV written with
commas and dot decimals lands in one column, or turns 6.5 into a date. So the CSV follows the reader's
language (Dutch: ``;`` and decimal commas; English: ``,`` and dots) and starts with a byte-order mark,
which tells Excel it is UTF-8. The XLSX stores numbers as numbers, whatever the language. Texts go
through ``safe_cell`` (no formula injection) in both.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import date, datetime

from .cells import safe_cell

SEPARATORS = {"nl": (";", ","), "en": (",", ".")}  # column separator, decimal sign


def _number(value: float, decimal: str) -> str:
    text = f"{value:.10g}" if isinstance(value, float) else str(value)
    if "e" in text:  # spreadsheets read plain decimals more reliably than exponents
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal)


def _cell(value, decimal: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return _number(value, decimal)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(safe_cell(str(value)))


def csv_text(header: Sequence[str], rows: Sequence[Sequence], language: str = "nl") -> str:
    """The table as CSV text for a spreadsheet in ``language`` (nl: ``;`` and decimal commas)."""
    separator, decimal = SEPARATORS.get(language, SEPARATORS["en"])
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow([_cell(h, decimal) for h in header])
    for row in rows:
        writer.writerow([_cell(v, decimal) for v in row])
    return out.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence], sheet: str = "Sheet1") -> bytes:
    """The table as an XLSX workbook of one sheet: a bold, frozen header row, numbers as numbers."""
    import xlsxwriter  # only the export needs it

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    widths = [len(str(h)) for h in header]
    for col, h in enumerate(header):
        ws.write_string(0, col, str(h), bold)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, col, value)
            elif isinstance(value, int | float):
                ws.write_number(r, col, value)
            else:
                text = value.isoformat() if isinstance(value, datetime | date) else str(safe_cell(str(value)))
                ws.write_string(r, col, text)
            if col < len(widths):
                widths[col] = max(widths[col], min(60, len(str(value))))
    for col, width in enumerate(widths):
        ws.set_column(col, col, width + 2)
    ws.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
