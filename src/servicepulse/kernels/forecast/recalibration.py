"""Rolling recalibration of the interval on recently closed cases.

A split-conformal correction computed once, at fit time, is only as good as the
assumption that the future looks like the calibration cases. Processes drift:
on Helpdesk the test period closes most tickets exactly 15 days after their
resolution, a rule the older cases hardly show, and the frozen correction
under-covers. Once a case is closed its true remaining time is known at every
one of its prefixes, so a running system can recompute the correction from the
conformity scores of the most *recently closed* cases, e.g. every night
(adaptive / weighted conformal under shift: Gibbs & Candès 2021; Barber et al.
2023 give the coverage bound for such non-exchangeable windows).

Only information available at the moment ``now`` is used: a case enters the
window when its last event is before ``now``. Cases the quantile models were
trained on are left out, as their scores are in-sample (too small). While the
window holds fewer than ``min_prefixes`` scores the calibration of the fit is
kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .conformal import IntervalCalibration
from .events import validate_events
from .features import is_open_prefix, remaining_days

if TYPE_CHECKING:
    from .model import ResolutionForecaster

# An 80% quantile from fewer scores moves by days from one sample to the next
# (the same reasoning as conformal.MIN_GROUP_PREFIXES, for the whole window).
MIN_WINDOW_PREFIXES = 100


@dataclass(frozen=True)
class RecalibrationWindow:
    """Which recently closed cases calibrate: the last ``prefixes`` scores, or those of
    cases closed in the last ``days`` days (exactly one of the two).

    The default, the last 1000 prefixes, was chosen on Helpdesk validation among
    250/500/1000 prefixes and 14/30/60 days (bench part 1b, docs/forecast.md).
    """

    prefixes: int | None = 1000
    days: float | None = None
    min_prefixes: int = MIN_WINDOW_PREFIXES

    def __post_init__(self) -> None:
        if (self.prefixes is None) == (self.days is None):
            raise ValueError("a recalibration window is either a number of prefixes or a number of days.")
        if self.prefixes is not None and self.prefixes < 1:
            raise ValueError(f"window prefixes must be positive, got {self.prefixes}.")
        if self.days is not None and self.days <= 0:
            raise ValueError(f"window days must be positive, got {self.days}.")

    @property
    def label(self) -> str:
        return f"last {self.prefixes} prefixes" if self.prefixes is not None else f"last {self.days:g} days"


def conformity_table(forecaster: ResolutionForecaster, closed_events: pd.DataFrame) -> pd.DataFrame:
    """Raw interval and truth of every open prefix of the given closed cases.

    One row per prefix (lengths 1..n-1, as the fit calibrates), with ``case_id``,
    ``closed_at`` (the case's last event, naive UTC), ``low``/``high`` (raw bounds, days),
    ``y`` (true remaining days), ``group`` (the calibration group) and ``point``
    (the point estimate, which the served interval always holds). Cases the
    quantile models were trained on are dropped. Sorted by ``closed_at``.
    """
    columns = ["case_id", "closed_at", "low", "high", "y", "group", "point"]
    events = validate_events(closed_events, what="closed cases")
    seen = forecaster.quantile_training_cases
    events = events[~events["case_id"].isin(seen)]
    usable = is_open_prefix(events).to_numpy()
    if not usable.any():
        return pd.DataFrame(columns=columns)
    # Naive UTC, so that windows are found by binary search.
    closed_at = events.groupby("case_id", sort=False)["timestamp"].transform("max").dt.tz_convert("UTC")
    closed_at = closed_at.dt.tz_localize(None)
    low, high, groups, point = forecaster.raw_interval(events)
    table = pd.DataFrame({
        "case_id": events["case_id"].to_numpy(),
        "closed_at": closed_at.to_numpy(),
        "low": low,
        "high": high,
        "y": remaining_days(events).to_numpy(),
        "group": groups,
        "point": point,
    })[usable]
    return table.sort_values("closed_at", kind="stable").reset_index(drop=True)


def window_rows(table: pd.DataFrame, now: pd.Timestamp, window: RecalibrationWindow) -> pd.DataFrame:
    """The rows of ``table`` (sorted by ``closed_at``) in the window that ends just before ``now``."""
    if table.empty:
        return table
    closed = table["closed_at"].to_numpy()
    moment = _utc(now).tz_localize(None)
    # Strictly before ``now``: a case closing at the recalibration moment is not yet known.
    end = int(np.searchsorted(closed, np.datetime64(moment), "left"))
    if window.prefixes is not None:
        return table.iloc[max(0, end - window.prefixes):end]
    start = int(np.searchsorted(closed, np.datetime64(moment - pd.Timedelta(days=window.days)), "left"))
    return table.iloc[start:end]


def calibration_at(
    table: pd.DataFrame,
    now: pd.Timestamp,
    window: RecalibrationWindow,
    method: str,
    coverage: float,
) -> tuple[IntervalCalibration | None, pd.DataFrame]:
    """The correction from the window before ``now`` and the rows it used; ``None`` when
    the window holds fewer than ``window.min_prefixes`` scores (keep the fit's calibration)."""
    rows = window_rows(table, now, window)
    if len(rows) < window.min_prefixes:
        return None, rows
    calibration = IntervalCalibration.learn(
        method, rows["low"].to_numpy(float), rows["high"].to_numpy(float), rows["y"].to_numpy(float),
        rows["group"].to_numpy(), coverage,
        rows["point"].to_numpy(float) if "point" in rows else None,
    )
    return calibration, rows


def _utc(moment) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError(f"the recalibration moment must carry a timezone, got {moment!r}.")
    return stamp.tz_convert("UTC")
