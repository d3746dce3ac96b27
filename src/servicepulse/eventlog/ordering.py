"""Case ordering shared by the statistics and the case facts.

Events are ordered per case by timestamp; ties keep source order (a stable
sort), which is also how pm4py orders a log. Everything here is vectorised:
one factorize and one lexsort over the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED = ("case_id", "activity", "timestamp")


@dataclass(frozen=True)
class CaseOrder:
    """A log sorted by (case, timestamp, source order).

    ``order`` indexes the original frame; ``case`` holds the case code of each
    sorted event, ``cases`` the case ids by code, ``starts`` the position of
    each case's first sorted event and ``first``/``last`` flag case borders.
    """

    order: np.ndarray
    case: np.ndarray
    cases: pd.Index
    starts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    ts: np.ndarray  # int64 microseconds since epoch (UTC), sorted

    @property
    def n_cases(self) -> int:
        return len(self.starts)


def check_frame(df: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"event frame lacks column(s) {', '.join(missing)}; read it with read_event_log")
    if df["timestamp"].isna().any() or df["case_id"].isna().any() or df["activity"].isna().any():
        raise ValueError("event frame has missing case_id/activity/timestamp values")


def timestamps_us(ts: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (UTC)."""
    if getattr(ts.dt, "tz", None) is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    utc = ts.dt.tz_convert("UTC").dt.as_unit("us").dt.tz_localize(None)
    return utc.to_numpy().view(np.int64)


def case_order(df: pd.DataFrame) -> CaseOrder:
    check_frame(df)
    codes, cases = pd.factorize(df["case_id"], sort=True)
    ts = timestamps_us(df["timestamp"])
    if "file_order" in df.columns:
        tie = df["file_order"].to_numpy()
    else:
        tie = np.arange(len(df))
    order = np.lexsort((tie, ts, codes))
    case = codes[order]
    n = len(case)
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    return CaseOrder(order, case, pd.Index(cases), np.flatnonzero(first), first, last, ts[order])
