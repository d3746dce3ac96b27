"""Errors raised by the event-log readers.

A reader never stops at the first bad row: it collects every row-level problem
so that a person can fix the whole file in one go. The importer rejects a file
with any bad row, so `EventLogError` carries the (capped) list plus the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: How many row errors are kept and shown; the total count is always exact.
MAX_ROW_ERRORS = 100


@dataclass(frozen=True)
class RowError:
    """One problem in one source row (CSV record, JSON line or XES event)."""

    row: int
    field: str
    value: Any
    message: str
    unit: str = "row"  # "row" for CSV/JSON lines, "event" for XES

    def __str__(self) -> str:
        return f"{self.unit} {self.row}: {self.message}"


@dataclass
class EventLogError(Exception):
    """A file that cannot be turned into a clean event log.

    ``message`` is the human summary; ``errors`` the first `MAX_ROW_ERRORS`
    row errors in source order; ``error_count`` the total number of bad values.
    File-level problems (unknown column, not XES, unreadable) have no row errors.
    """

    message: str
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if self.error_count < len(self.errors):
            self.error_count = len(self.errors)

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """The message followed by one line per shown row error."""
        lines = [self.message]
        lines += [f"  {e}" for e in self.errors]
        hidden = self.error_count - len(self.errors)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
        return "\n".join(lines)


def raise_row_errors(errors: list[RowError], total: int, source: str) -> None:
    """Raise one `EventLogError` for all row errors (sorted by row), if any."""
    if not total:
        return
    shown = sorted(errors, key=lambda e: (e.row, e.field))[:MAX_ROW_ERRORS]
    unit = shown[0].unit + "s" if shown else "rows"
    raise EventLogError(
        f"{source}: {total} problem(s) found; nothing was read. Fix these {unit}:",
        shown,
        total,
    )
