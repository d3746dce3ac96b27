"""Load the demo organisation into a fresh SQLite file (or a given database) and print time and counts.

    python bench/demo_load.py                 # medium, into a temporary SQLite file
    python bench/demo_load.py --size large
    python bench/demo_load.py --url postgresql+psycopg://postgres@127.0.0.1/demo_bench

The target for medium is under 60 s including the inserts (aim: ~30 s) on a
2-core machine; the stage timings show where the time goes.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.demo import load_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file in a temporary folder)")
    args = parser.parse_args()

    folder = None
    url = args.url
    if url is None:
        folder = tempfile.TemporaryDirectory(prefix="demo-bench-")
        url = f"sqlite:///{Path(folder.name) / 'demo.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)

    started = time.perf_counter()
    cpu0 = time.process_time()
    stages: dict[str, tuple[float, float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        stages.setdefault(stage, (time.perf_counter() - started, time.process_time() - cpu0))

    summary = load_demo(engine, size=args.size, seed=args.seed, reset=True, progress=progress)
    total = (time.perf_counter() - started, time.process_time() - cpu0)
    print(f"demo load: size={args.size} seed={args.seed} backend={engine.dialect.name} cpus={os.cpu_count()} "
          f"load-average={os.getloadavg()[0]:.1f}")
    print(f"total {total[0]:.1f} s wall, {total[1]:.1f} s CPU of this process (the machine is shared)")
    names = list(stages) + ["end"]
    times = list(stages.values()) + [total]
    for name, t0, t1 in zip(names, times, times[1:]):
        print(f"  {name:<14} {t1[0] - t0[0]:6.1f} s wall {t1[1] - t0[1]:6.1f} s CPU")
    for key in ("customers", "cases", "events", "promises", "responses", "answers", "users", "projects"):
        print(f"  {key:<14} {getattr(summary, key):>9,}")
    if folder is not None:
        size_mb = (Path(folder.name) / "demo.sqlite").stat().st_size / 1e6
        print(f"  sqlite file    {size_mb:8.1f} MB")
    engine.dispose()


if __name__ == "__main__":
    main()
