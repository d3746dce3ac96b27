"""Benchmark: bulk event import into SQLite and PostgreSQL, against pandas.

    python bench/events_import.py [--events 1000000] [--backends sqlite,postgresql]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres]

Generates a synthetic log (the kernel benchmark's generator: ~1M events,
about 100k cases, teams, channels, front/back office; each event with an id),
writes it to a CSV file, then per database (fresh and migrated; PostgreSQL in
a throw-away database that is dropped afterwards):

1. our import: ``ingest_events`` (one transaction: cases, events, the
   case_facts of every touched case, the cases' opened/closed/last team;
   new cases' facts come from the frame in memory),
   timed per phase, events/s printed for the event write alone and for the
   whole import; the CSV read is timed separately; the load average is
   printed with every backend's figures (the machine may be shared);
2. pandas: ``read_csv`` + ``to_sql`` of the same file into a plain table of
   the same database (no cases, no facts, no idempotency), and the ratio;
3. an incremental import: 1,000 late events for existing cases plus a replay
   of 1,000 stored ones (the DB-side facts update for touched cases only).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_stats_vs_pm4py import synthetic_log  # noqa: E402

from servicepulse.cases.service import ingest_events  # noqa: E402
from servicepulse.db import migrate  # noqa: E402
from servicepulse.db.engine import make_engine  # noqa: E402
from servicepulse.db.session import UnitOfWork  # noqa: E402
from servicepulse.kernels.eventlog import read_event_log  # noqa: E402

TARGETS = {"sqlite": 100_000, "postgresql": 200_000}


def make_log(n: int, seed: int) -> pd.DataFrame:
    df = synthetic_log(n, seed)
    df["event_id"] = pd.Series(np.char.add("E", np.arange(len(df)).astype(str)), dtype="str")
    return df


def pg_database(base_url: str) -> tuple[str, callable]:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"sp_bench_events_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def run(backend: str, url: str, csv_path: Path, n_events: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    try:
        t = time.perf_counter()
        frame = read_event_log(csv_path)
        t_read = time.perf_counter() - t

        t = time.perf_counter()
        with UnitOfWork(engine) as session:
            summary = ingest_events(session, frame, notify=False)
        t_import = time.perf_counter() - t
        s = summary.seconds
        ev_rate = summary.stored / s["events"]
        all_rate = summary.stored / t_import
        print(f"\n[{backend}] {summary.stored:,} events, {summary.cases_created:,} cases; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"  read CSV (read_event_log):             {t_read:6.2f} s")
        print(f"  import, whole transaction:             {t_import:6.2f} s  ({all_rate:,.0f} events/s incl. cases + facts)")
        print(f"    prepare (ids, dedupe):               {s['prepare']:6.2f} s")
        print(f"    cases (teams, moments, new cases' facts computed, cases created): {s['cases']:6.2f} s")
        print(f"    events (bulk write):                 {s['events']:6.2f} s  ({ev_rate:,.0f} events/s)")
        print(f"    case facts stored (+ DB-side recompute of cases that had events): {s['facts']:6.2f} s  "
              f"({summary.cases_touched:,} cases)")
        target = TARGETS[backend]
        print(f"  target {target:,} events/s: event write {'met' if ev_rate >= target else 'NOT met'}, "
              f"whole import {'met' if all_rate >= target else 'NOT met'}")

        t = time.perf_counter()
        raw = pd.read_csv(csv_path)
        raw.to_sql("bench_pandas_events", engine, if_exists="replace", index=False, chunksize=50_000)
        t_pandas = time.perf_counter() - t
        pandas_rate = len(raw) / t_pandas
        print(f"  pandas read_csv + to_sql:              {t_pandas:6.2f} s  ({pandas_rate:,.0f} events/s, events only)")
        print(f"  ratio ours/pandas: event write {ev_rate / pandas_rate:.1f}x, whole import incl. read "
              f"{(t_pandas) / (t_import + t_read):.1f}x")

        # incremental: late events for 1,000 existing cases, plus 1,000 replays
        rng = np.random.default_rng(7)
        cases = rng.choice(frame["case_id"].unique(), 1_000, replace=False)
        late = frame[frame["case_id"].isin(cases)].groupby("case_id").tail(1).copy()
        late["timestamp"] = late["timestamp"] + pd.Timedelta(hours=5)
        late["event_id"] = "late-" + late["event_id"].astype(str)
        late["activity"] = "Customer calls again"
        late["direction"] = "inbound"
        replay = frame.sample(1_000, random_state=7)
        batch = pd.concat([late, replay], ignore_index=True)
        batch["file_order"] = np.arange(len(batch))
        t = time.perf_counter()
        with UnitOfWork(engine) as session:
            inc = ingest_events(session, batch, notify=False)
        t_inc = time.perf_counter() - t
        print(f"  incremental batch ({len(batch):,} events, {inc.stored:,} new, {inc.duplicates:,} replays, "
              f"{inc.cases_touched:,} cases): {t_inc:.2f} s; facts for touched cases (DB side) "
              f"{inc.seconds['facts']:.2f} s")
        print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--postgres-url", default=os.environ.get("SERVICEPULSE_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    args = ap.parse_args()
    df = make_log(args.events, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "events.csv"
        df.drop(columns=["file_order"]).to_csv(csv_path, index=False)
        print(f"log: {len(df):,} events, {df['case_id'].nunique():,} cases, CSV {csv_path.stat().st_size / 1e6:.0f} MB")
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}", csv_path, len(df))
            else:
                url, drop = pg_database(args.postgres_url)
                try:
                    run("postgresql", url, csv_path, len(df))
                finally:
                    drop()


if __name__ == "__main__":
    main()
