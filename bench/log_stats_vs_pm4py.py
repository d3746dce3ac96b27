"""Benchmark: our log_stats + case facts vs pm4py's same statistics on a
synthetic ~1M-event log, and our CSV reader vs plain pandas.read_csv.

    python bench/log_stats_vs_pm4py.py [--events 1000000] [--seed 1]

Prints figures only (no assertions on time). Also checks that both sides
produced the same numbers, so the comparison is like for like.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from servicepulse.kernels.eventlog import (
    case_facts,
    log_stats,
    read_event_log,
    variant_counts,
)

ACTIVITIES = np.array([
    "Customer call", "Create ticket", "Send confirmation", "Assign to back office", "Wait for customer",
    "Plan engineer visit", "Engineer visit", "Update customer", "Ticket resolved", "Ticket closed",
    "Customer chat", "Escalate", "Reopen request",
])
TEAMS = np.array(["Front", "Back", "Field", "Billing"])
CHANNELS = np.array(["phone", "chat", "email", "web"])
# a few typical paths; events are drawn from a path with some noise
PATHS = [
    [0, 1, 2, 8, 9],
    [0, 1, 3, 5, 6, 7, 8, 9],
    [10, 1, 4, 3, 8, 9],
    [0, 1, 3, 9, 0, 12, 3, 5, 6, 8, 9],
    [10, 1, 2, 3, 11, 5, 6, 7, 9],
]
INBOUND = {0, 10, 12}
FACING = {0, 2, 6, 7, 10, 12, 8}
TEAM_OF = {0: 0, 1: 0, 2: 0, 3: 1, 4: 0, 5: 1, 6: 2, 7: 0, 8: 1, 9: 1, 10: 0, 11: 3, 12: 0}


def synthetic_log(n_events: int = 1_000_000, seed: int = 1) -> pd.DataFrame:
    """A normalised events frame of about ``n_events`` events (vectorised)."""
    rng = np.random.default_rng(seed)
    avg = np.mean([len(p) for p in PATHS])
    n_cases = int(n_events / avg)
    path_of_case = rng.integers(0, len(PATHS), n_cases)
    lengths = np.array([len(p) for p in PATHS])[path_of_case]
    case = np.repeat(np.arange(n_cases), lengths)
    pos = np.arange(len(case)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded = np.full((len(PATHS), max(lengths)), -1)
    for i, p in enumerate(PATHS):
        padded[i, : len(p)] = p
    act = padded[path_of_case[case], pos]
    noise = rng.random(len(act)) < 0.05  # 5 % random activities -> many variants
    act[noise] = rng.integers(0, len(ACTIVITIES), noise.sum())
    start = pd.Timestamp("2023-01-01", tz="UTC").value // 1000 + rng.integers(0, 2 * 365 * 86400, n_cases) * 1_000_000
    step = (rng.exponential(8 * 3600, len(case)) * 1_000_000).astype(np.int64)
    step[pos == 0] = 0
    ts = np.repeat(start, lengths) + np.cumsum(step) - np.repeat(np.cumsum(step)[np.cumsum(lengths) - lengths], lengths)
    # round to seconds so timestamp ties happen, as in real exports
    ts = ts // 1_000_000 * 1_000_000
    team = np.array([TEAM_OF[i] for i in range(len(ACTIVITIES))])[act]
    inbound = np.isin(act, list(INBOUND))
    df = pd.DataFrame({
        "case_id": pd.Series(np.char.add("C", case.astype(str)), dtype="str"),
        "activity": pd.Series(ACTIVITIES[act], dtype="str"),
        "timestamp": pd.to_datetime(ts.astype("datetime64[us]")).tz_localize("UTC"),
        "team": pd.Series(TEAMS[team], dtype="str"),
        "line": pd.Series(np.where(team == 0, "front", "back"), dtype="str"),
        "channel": pd.Series(np.where(inbound, CHANNELS[rng.integers(0, 4, len(act))], None), dtype="str"),
        "direction": pd.Series(np.where(inbound, "inbound", None), dtype="str"),
        "customer_facing": pd.Series(np.isin(act, list(FACING)), dtype="boolean"),
    })
    # shuffle so that nobody gets a pre-sorted log for free
    df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    df["file_order"] = np.arange(len(df), dtype=np.int64)
    return df


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def pm4py_stats(df: pd.DataFrame) -> dict:
    import pm4py

    keys = dict(case_id_key="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp")
    formatted = pm4py.format_dataframe(
        df[["case_id", "activity", "timestamp"]].rename(columns={"case_id": "cid", "activity": "act", "timestamp": "ts"}),
        case_id="cid", activity_key="act", timestamp_key="ts",
    )
    durations = np.asarray(pm4py.get_all_case_durations(formatted, **keys), dtype=float) / 86400
    return {
        "cases": formatted["case:concept:name"].nunique(),
        "variants": pm4py.get_variants(formatted, **keys),
        "dfg": pm4py.discover_dfg(formatted, **keys)[0],
        "activities": pm4py.get_event_attribute_values(formatted, "concept:name", case_id_key="case:concept:name"),
        "mean": float(np.mean(durations)),
        "median": float(np.median(durations)),
    }


def compare(df: pd.DataFrame) -> None:
    ours, t_stats = timed(log_stats, df)
    facts, t_facts = timed(case_facts, df)
    print(f"ours   log_stats        {t_stats:7.2f} s  ({ours['variants']:,} variants)")
    print(f"ours   case_facts       {t_facts:7.2f} s  ({len(facts):,} cases x {facts.shape[1]} facts)")
    ref, t_pm = timed(pm4py_stats, df)
    print(f"pm4py  same statistics  {t_pm:7.2f} s")
    same = (
        ours["cases"] == ref["cases"]
        and variant_counts(df) == {tuple(k): v for k, v in ref["variants"].items()}
        and {(a, b): c for a, b, c in ours["directly_follows"]} == dict(ref["dfg"])
        and ours["activities"] == dict(ref["activities"])
        and math.isclose(ours["throughput_days"]["mean"], ref["mean"], rel_tol=1e-9)
        and math.isclose(ours["throughput_days"]["median"], ref["median"], rel_tol=1e-9)
    )
    print(f"identical figures: {same}")
    total = t_stats + t_facts
    print(f"pm4py / ours(log_stats) = {t_pm / t_stats:.1f}x; "
          f"pm4py / ours(log_stats + case_facts, {total:.2f} s) = {t_pm / total:.1f}x")
    met = total < 30 and t_pm / t_stats >= 10
    print(f"target (ours < 30 s, log_stats >= 10x faster than pm4py): {'met' if met else 'NOT met'}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    generated, t_gen = timed(synthetic_log, args.events, args.seed)
    # exports list a case's events together: write the CSV grouped by case
    generated = generated.sort_values(["case_id", "timestamp", "file_order"], kind="stable")
    print(f"synthetic log: {len(generated):,} events, {generated['case_id'].nunique():,} cases "
          f"(generated in {t_gen:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.csv"
        out = generated.drop(columns=["file_order"])
        # local wall-clock times without offset, as Dutch exports usually are
        out["timestamp"] = out["timestamp"].dt.tz_convert("Europe/Amsterdam").dt.strftime("%Y-%m-%d %H:%M:%S")
        out.to_csv(path, index=False)
        mb = path.stat().st_size / 1e6
        _, t_plain = timed(pd.read_csv, path)
        _, t_plain_ts = timed(lambda: pd.read_csv(path, parse_dates=["timestamp"]))
        df, t_ours = timed(read_event_log, path)
    print(f"CSV {len(df):,} rows, {mb:.0f} MB: pandas.read_csv {t_plain:.2f} s "
          f"(with parse_dates {t_plain_ts:.2f} s); read_event_log {t_ours:.2f} s "
          f"= {t_ours / t_plain:.1f}x plain read_csv (adds validation, time zones, normalisation)")

    shuffled = df.sample(frac=1.0, random_state=args.seed).reset_index(drop=True)
    shuffled["file_order"] = np.arange(len(shuffled))
    by_time = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
    by_time["file_order"] = np.arange(len(by_time))
    layouts = (
        ("as read (grouped by case)", df),
        ("rows sorted by time, cases interleaved (audit-log export)", by_time),
        ("rows shuffled (worst case)", shuffled),
    )
    for label, frame in layouts:
        print(f"-- {label}")
        compare(frame)


if __name__ == "__main__":
    main()
