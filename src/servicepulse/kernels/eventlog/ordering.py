"""Case ordering shared by the statistics and the case facts.

Events are ordered per case by timestamp; ties keep source order (a stable
sort), which is also how pm4py orders a log. Everything here is vectorised;
logs that list each case's events together (most exports, XES) take a fast
path that hashes one id per case and sorts only the cases out of time order.
Other layouts (time-sorted audit logs, shuffled rows) are sorted once on a
packed integer key: (case code, time rank, source rank) are all below n, so
they pack into one unique int64 and NumPy's unstable (SIMD) argsort gives the
stable order, several times faster than stable or lexicographic sorts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED = ("case_id", "activity", "timestamp")
RUN_PROBE = 10_000  # rows looked at to tell a log grouped by case from an interleaved one
PACKED_LIMIT = np.iinfo(np.int64).max


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
    head = arr[:RUN_PROBE]
    if len(head) > 1 and (head[1:] != head[:-1]).mean() > 0.5:  # interleaved cases: runs would not pay
        codes, uniques = pd.factorize(arr)
        return codes, np.asarray(uniques, dtype=object)
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
    """Order by (case code, time, source order); source order is ``tie``
    (stable, then position) when given, else position.

    Exports usually list each case's events together and mostly in time
    order; then only the cases with events out of time order are sorted.
    """
    n = len(codes)
    order = np.arange(n)
    if n < 2:
        return order
    tie_sorted = tie is None or bool((tie[1:] >= tie[:-1]).all())
    if tie_sorted and (codes[1:] >= codes[:-1]).all():  # each case's events contiguous
        same_case = codes[1:] == codes[:-1]
        inverted = same_case & (ts[1:] < ts[:-1])
        if not inverted.any():
            return order
        bad = np.zeros(int(codes.max()) + 1, dtype=bool)
        bad[codes[1:][inverted]] = True
        sub = np.flatnonzero(bad[codes])
        order[sub] = sub[np.lexsort((sub, ts[sub], codes[sub]))]
        return order
    source = order if tie_sorted else _ranks(np.argsort(tie, kind="stable"))
    time_rank = np.unique(ts, return_inverse=True)[1].reshape(-1).astype(np.int64)
    n_cases, n_times = int(codes.max()) + 1, int(time_rank.max()) + 1
    if n_cases * n_times <= PACKED_LIMIT // n:  # one unique key per event
        return np.argsort((codes.astype(np.int64) * n_times + time_rank) * n + source)
    # very large logs: by (time, source), then by case keeping that order
    by_time = np.argsort(time_rank * n + source)
    return by_time[np.argsort(codes[by_time].astype(np.int64) * n + np.arange(n))]


def _ranks(permutation: np.ndarray) -> np.ndarray:
    """The inverse of a permutation: each element's rank."""
    ranks = np.empty_like(permutation)
    ranks[permutation] = np.arange(len(permutation))
    return ranks
