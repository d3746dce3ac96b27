"""Benchmark: case facts on ~1M events, full and incremental.

    python bench/case_facts_1m.py [--events 1000000] [--batch-cases 1000]

Prints: full case_facts time, then update_case_facts for a batch of new
events touching ``--batch-cases`` cases (history loaded from an in-memory
store, as the database layer would), and checks that the incremental result
equals a full recomputation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_stats_vs_pm4py import synthetic_log  # noqa: E402

from servicepulse.kernels.eventlog import case_facts, update_case_facts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch-cases", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=2)
    args = ap.parse_args()

    df = synthetic_log(args.events, args.seed)
    df = df.sort_values(["case_id", "timestamp", "file_order"], kind="stable").reset_index(drop=True)
    df["file_order"] = np.arange(len(df))
    print(f"log: {len(df):,} events, {df['case_id'].nunique():,} cases")

    t = time.perf_counter()
    full = case_facts(df)
    t_full = time.perf_counter() - t
    print(f"case_facts, all cases:        {t_full:6.2f} s  ({len(df) / t_full / 1e6:.2f} M events/s)")

    # the batch: the last event of --batch-cases random cases arrives late
    rng = np.random.default_rng(args.seed)
    touched = rng.choice(full.index.to_numpy(), args.batch_cases, replace=False)
    last = df.groupby("case_id", sort=False).tail(1)
    batch = last[last["case_id"].isin(touched)]
    store = df.drop(index=batch.index)
    by_case = store.set_index("case_id", drop=False).sort_index()  # an indexed table

    load_time = []

    def load_history(case_ids):
        t0 = time.perf_counter()
        history = by_case.loc[list(case_ids)].reset_index(drop=True)
        load_time.append(time.perf_counter() - t0)
        return history

    stored = case_facts(store)
    t = time.perf_counter()
    updated = update_case_facts(stored, batch, load_history)
    t_inc = time.perf_counter() - t
    print(f"update_case_facts, {len(batch):,} new events in {args.batch_cases:,} cases: {t_inc:6.3f} s "
          f"(of which loading the history {load_time[0]:.3f} s; {t_full / t_inc:.0f}x faster than recomputing all)")
    same = updated.loc[full.index].equals(full)
    print(f"incremental result equals full recomputation: {same}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
