"""Case ordering: every fast path must give the order of a plain
(case, timestamp, source order) lexsort, computed here independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.eventlog.ordering import case_order


def reference_order(df: pd.DataFrame) -> np.ndarray:
    first_seen = {}
    for c in df["case_id"]:
        first_seen.setdefault(c, len(first_seen))
    case_rank = df["case_id"].map(first_seen).to_numpy()
    ts = df["timestamp"].astype("int64").to_numpy()
    return np.lexsort((df["file_order"].to_numpy(), ts, case_rank))


def log(layout: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 8, 300)
    case = np.repeat([f"k{i}" for i in rng.permutation(300)], lengths)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 50, len(case)), unit="h")
    df = pd.DataFrame({"case_id": case, "activity": "a", "timestamp": ts})
    if layout == "grouped-sorted":
        df = df.sort_values(["case_id", "timestamp"], kind="stable")
    elif layout == "grouped-unsorted-cases":
        df = df.sort_values(["timestamp"], kind="stable").sort_values("case_id", kind="stable", key=lambda s: s.str.len())
    elif layout == "time-sorted":
        df = df.sort_values("timestamp", kind="stable")
    elif layout == "shuffled":
        df = df.sample(frac=1.0, random_state=seed)
    # "grouped": contiguous cases, in random case order, times out of order
    df = df.reset_index(drop=True)
    df["file_order"] = np.arange(len(df))
    if layout == "file-order-permuted":
        df["file_order"] = rng.permutation(len(df))
    return df


@pytest.mark.parametrize(
    "layout",
    ["grouped", "grouped-sorted", "grouped-unsorted-cases", "time-sorted", "shuffled", "file-order-permuted"],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_order_equals_lexsort(layout, seed):
    df = log(layout, seed)
    o = case_order(df)
    assert (o.order == reference_order(df)).all()
    assert list(o.cases) == list(dict.fromkeys(df["case_id"]))  # first appearance
    assert (o.cases[o.case] == df["case_id"].to_numpy()[o.order]).all()


def test_grouped_in_sorted_case_order_with_inversions():
    df = log("grouped-sorted", 3)
    ts = df["timestamp"].copy()
    swap = np.arange(0, len(df) - 1, 7)
    ts.iloc[swap], ts.iloc[swap + 1] = ts.iloc[swap + 1].to_numpy(), ts.iloc[swap].to_numpy()
    df["timestamp"] = ts
    assert (case_order(df).order == reference_order(df)).all()


@pytest.mark.parametrize("layout", ["time-sorted", "shuffled", "file-order-permuted"])
def test_two_pass_sort_for_keys_too_large_to_pack(layout, monkeypatch):
    from servicepulse.kernels.eventlog import ordering

    df = log(layout, 4)
    packed = case_order(df).order
    monkeypatch.setattr(ordering, "PACKED_LIMIT", 1)  # as if (case, time, source) could not share one int64
    assert (case_order(df).order == reference_order(df)).all()
    assert (packed == reference_order(df)).all()
