"""Spreadsheet kernel: cells for CSV and XLSX exports that a spreadsheet will not run as formulas.

Public API:

- ``safe_cell(value)``: a text that a spreadsheet would take for a formula gets a leading apostrophe.
- ``safe_row(values)``: ``safe_cell`` on each value of a row.
"""
from .cells import FORMULA_STARTS, safe_cell, safe_row

__all__ = ["FORMULA_STARTS", "safe_cell", "safe_row"]
