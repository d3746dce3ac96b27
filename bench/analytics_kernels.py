"""Timing of the analytics kernels (prints figures; not a test).

Run: python bench/analytics_kernels.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from servicepulse.kernels.statistics import dominance, nps, prca, relative_weights


def timed(label: str, func, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<55} {best * 1000:9.1f} ms")


def main() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    for p in (8, 12, 14, 16, 18):
        x = pd.DataFrame(rng.normal(size=(n, p)) + rng.normal(size=(n, 1)), columns=[f"d{i}" for i in range(p)])
        y = pd.Series(x.to_numpy() @ rng.uniform(0, 1, p) + rng.normal(size=n))
        timed(f"dominance, {p} drivers, {n:,} rows ({2 ** p:,} subsets)", lambda x=x, y=y: dominance(x, y), 1 if p >= 16 else 3)
        timed(f"relative_weights, {p} drivers, {n:,} rows", lambda x=x, y=y: relative_weights(x, y))
    timed("nps bootstrap, n=100,000, 10,000 replicates", lambda: nps(30_000, 30_000, 40_000, method="bootstrap", seed=1))
    rows = 200_000
    moments = pd.DataFrame({f"m{i}": rng.integers(0, 11, rows) for i in range(10)})
    overall = pd.Series(rng.integers(0, 11, rows), dtype=float)
    timed(f"prca, 10 moments, {rows:,} rows", lambda: prca(moments, overall), 1)


if __name__ == "__main__":
    main()
