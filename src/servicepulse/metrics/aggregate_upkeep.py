"""Keeping ``score_daily_counts`` in shape without anyone running ``report aggregates`` by hand.

Every ingest adds delta rows (``repository.add_to_daily_counts``); they give
exact figures but pile up, and each one is another row every dashboard query
sums. ``keep_daily_counts`` builds the aggregate the first time there are
responses, and afterwards rebuilds only the days that hold delta rows or that
lie past the last aggregated day (responses written by a bulk path that adds
no deltas), so a run costs a few days' rebuild, not the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from servicepulse.metrics import repository as repo


@dataclass
class Upkeep:
    built: bool = False  # the whole aggregate was built (first run)
    days: list[date] = field(default_factory=list)  # days rebuilt (delta rows folded)
    rows: int = 0  # aggregate rows written


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as half-open ranges [first, last + 1 day)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def keep_daily_counts(session: Session) -> Upkeep:
    """Build the aggregate if it does not exist yet, else fold the days with delta rows (in the caller's unit of
    work; never commits)."""
    last = repo.last_aggregated_day(session)
    if last is None:
        if repo.first_response_day(session) is None:
            return Upkeep()
        return Upkeep(built=True, rows=repo.refresh_daily_counts(session))
    days = set(repo.days_with_deltas(session))
    latest = repo.last_response_day(session)
    if latest is not None and latest > last:
        days |= {last + timedelta(days=i) for i in range(1, (latest - last).days + 1)}
    result = Upkeep(days=sorted(days))
    for day_from, day_to in _runs(result.days):
        result.rows += repo.refresh_daily_counts(session, day_from, day_to)
    return result
