"""Spreadsheet kernel: cells for CSV and XLSX exports that a spreadsheet will not run as formulas.

Public API:

- ``safe_cell(value)``: a text that a spreadsheet would take for a formula gets a leading apostrophe.
- ``safe_row(values)``: ``safe_cell`` on each value of a row.
- ``csv_text(header, rows, language)``: CSV for a spreadsheet in that language (nl: ``;`` and decimal commas).
- ``xlsx_bytes(header, rows, sheet)``: an XLSX workbook with numbers as numbers.
"""
from .cells import FORMULA_STARTS, safe_cell, safe_row
from .tables import csv_text, xlsx_bytes

__all__ = ["FORMULA_STARTS", "csv_text", "safe_cell", "safe_row", "xlsx_bytes"]
