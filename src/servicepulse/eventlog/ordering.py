"""Case ordering shared by the statistics and the case facts.

Events are ordered per case by timestamp; ties keep source order (a stable
sort), which is also how pm4py orders a log. Everything here is vectorised;
logs that list each case's events together (most exports, XES) take a fast
path that hashes one id per case and sorts only the cases out of time order.
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
    sorted event, ``cases`` the case ids by code (in order of first
    appearance in the frame), ``starts`` the
    position of each case's first sorted event and ``first``/``last`` flag
    case borders. ``activity`` holds activity codes (sorted events) standing
    for ``activities``.
    """

    order: np.ndarray
    case: np.ndarray
    cases: pd.Index
    starts: np.ndarray
    first: np.ndarray
    last: np.ndarray
    ts: np.ndarray  # int64 microseconds since epoch (UTC), sorted
    activity: np.ndarray
    activities: np.ndarray

    @property
    def n_cases(self) -> int:
        return len(self.starts)


def check_columns(df: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"event frame lacks column(s) {', '.join(missing)}; read it with read_event_log")


def factorize_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the distinct values of a text column.

    Goes through a plain object array: much faster than factorizing the
    python-backed pandas string column directly.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def case_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Case codes (-1 for missing) numbered in order of first appearance, and
    the case ids by code.

    Only the first value of each run of equal ids is hashed: in the usual
    export layout, where each case's events are contiguous, that is one id per
    case instead of one per event.
    """
    arr = values.to_numpy(dtype=object)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    run_start = np.ones(len(arr), dtype=bool)
    run_start[1:] = arr[1:] != arr[:-1]
    head_codes, uniques = pd.factorize(arr[run_start])
    return head_codes[np.cumsum(run_start) - 1], np.asarray(uniques, dtype=object)


def timestamps_us(ts: pd.Series) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (UTC)."""
    if getattr(ts.dt, "tz", None) is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return ts.dt.as_unit("us").array.asi8


def case_order(df: pd.DataFrame) -> CaseOrder:
    check_columns(df)
    codes, cases = case_codes(df["case_id"])
    act, activities = factorize_text(df["activity"])
    ts = timestamps_us(df["timestamp"])
    if (codes < 0).any() or (act < 0).any() or df["timestamp"].isna().any():
        raise ValueError("event frame has missing case_id/activity/timestamp values")
    order = _sort_order(codes, ts, df["file_order"].to_numpy() if "file_order" in df.columns else None)
    case = codes[order]
    n = len(case)
    first = np.ones(n, dtype=bool)
    first[1:] = case[1:] != case[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    return CaseOrder(
        order, case, pd.Index(cases, dtype="str"), np.flatnonzero(first), first, last, ts[order],
        act[order], activities,
    )


def _sort_order(codes: np.ndarray, ts: np.ndarray, tie: np.ndarray | None) -> np.ndarray:
    """Stable sorts, least significant key first: source order, time, case.

    Exports usually list each case's events together and mostly in time
    order; then only the cases with events out of time order are sorted.
    """
    n = len(codes)
    order = np.arange(n)
    if n < 2:
        return order
    if tie is not None and not (tie[1:] >= tie[:-1]).all():
        order = np.argsort(tie, kind="stable")
    elif (codes[1:] >= codes[:-1]).all():  # each case's events contiguous
        same_case = codes[1:] == codes[:-1]
        inverted = same_case & (ts[1:] < ts[:-1])
        if not inverted.any():
            return order
        bad = np.zeros(int(codes.max()) + 1, dtype=bool)
        bad[codes[1:][inverted]] = True
        sub = np.flatnonzero(bad[codes])
        order[sub] = sub[np.lexsort((sub, ts[sub], codes[sub]))]
        return order
    ts_in_order = ts[order]
    if not (ts_in_order[1:] >= ts_in_order[:-1]).all():  # audit-log exports are already time-sorted
        order = order[np.argsort(ts_in_order, kind="stable")]
    return order[np.argsort(codes[order], kind="stable")]
