"""What one forecast view (case page, API, `forecast show`) costs with the stored recalibration.

    python bench/forecast_case_view.py                 # small demo, temporary SQLite file
    python bench/forecast_case_view.py --size tiny --views 5
    python bench/forecast_case_view.py --url postgresql+psycopg://postgres@127.0.0.1/forecast_bench

Loads the demo, trains the forecaster as the demo does (one seed, 400 rounds), and
times ``forecasting.forecast_cases`` for one open case as a reader does it (the
model loaded from its file each time), in three ways:

- recomputed: the interval's recalibration recomputed on every view (the
  behaviour before the correction was stored: no ``model_file``);
- first view of the day: no stored correction yet, so it is recomputed and stored;
- stored: later views, which read the stored correction.

Median wall and CPU seconds per view; the machine is shared, so the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import load_demo
from servicepulse.expectations import forecasting, stored_recalibration
from servicepulse.models import Case, CaseEvent


def _timed(action) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--views", type=int, default=20, help="views timed per way (median printed)")
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file in a temporary folder)")
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory(prefix="forecast-view-bench-")
    url = args.url or f"sqlite:///{Path(folder.name) / 'demo.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    load_demo(engine, size=args.size, seed=args.seed, reset=True)
    path = forecasting.model_path(Path(folder.name))
    with UnitOfWork(engine, readonly=True) as s:
        forecasting.train(s, path, n_seeds=1, max_rounds=400)
        now = s.scalar(select(func.max(CaseEvent.occurred_at)))
        case_id = forecasting.open_case_ids(s, now)[0]
        closed = s.scalar(select(func.count()).select_from(Case).where(Case.closed_at.is_not(None)))

    def view(model_file: Path | None):
        def run():
            with UnitOfWork(engine, readonly=True) as s:
                result = forecasting.forecast_cases(s, [case_id], now, forecasting.load_forecaster(path),
                                                    model_file=model_file)[case_id]
            assert result.state == "ok", result
        return run

    recomputed = [_timed(view(None)) for _ in range(args.views)]
    stored_file = stored_recalibration.path_for(path)
    stored_file.unlink(missing_ok=True)
    first = _timed(view(path))
    stored = [_timed(view(path)) for _ in range(args.views)]
    loads = [_timed(lambda: forecasting.load_forecaster(path)) for _ in range(args.views)]
    kept = stored_recalibration.read(stored_file)

    print(f"forecast view: demo size={args.size} backend={engine.dialect.name} closed cases={closed:,} "
          f"cpus={os.cpu_count()} load-average={'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  stored recalibration: {kept.cases} cases, {kept.prefixes} prefixes, before {kept.computed_for}")

    def line(name: str, times: list[tuple[float, float]]) -> None:
        print(f"  {name:<40} {statistics.median(t[0] for t in times):7.3f} s wall "
              f"{statistics.median(t[1] for t in times):7.3f} s CPU  (median of {len(times)})")

    line("recomputed on every view (before)", recomputed)
    line("first view of the day (recompute+store)", [first])
    line("stored (later views)", stored)
    line("of which loading the model file", loads)
    print(f"load-average at the end: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    engine.dispose()
    folder.cleanup()


if __name__ == "__main__":
    main()
