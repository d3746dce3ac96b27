"""Benchmark: what each index and foreign key of case_events costs a PostgreSQL COPY.

    python bench/events_copy_constraints.py [--events 200000]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1/postgres]

In a throw-away database migrated to the current schema, the same synthetic
events (cases stored first; COPY text built by `servicepulse.db.bulkio`)
are copied into fresh tables shaped like case_events (``LIKE case_events``:
columns, defaults, checks), one layer of the real table's constraints added
at a time: primary key, unique external id, (case, time) index, moment index,
then the foreign keys to cases, to teams and to moments; last, the same COPY
with the foreign keys added (validated) afterwards. Prints wall time and,
when the server runs on this machine, the CPU seconds of the server backend
(from /proc), which other processes' load disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from events_import import make_log, pg_database  # noqa: E402

from servicepulse.db import migrate  # noqa: E402
from servicepulse.db.bulkio import copy_text, ts_text  # noqa: E402
from servicepulse.db.engine import make_engine  # noqa: E402

COLUMNS = ["case_id", "external_id", "occurred_at", "seq", "activity", "channel", "direction", "actor", "team_id",
           "line", "customer_facing", "moment_id", "attributes", "ingested_at"]
LAYERS = [  # cumulative, in the order of the real table's definition
    ("heap + checks", "SELECT 1"),
    ("+ primary key", "ALTER TABLE {t} ADD PRIMARY KEY (id)"),
    ("+ unique external_id", "ALTER TABLE {t} ADD UNIQUE (external_id)"),
    ("+ (case_id, occurred_at) index", "CREATE INDEX ON {t} (case_id, occurred_at)"),
    ("+ moment_id index", "CREATE INDEX ON {t} (moment_id)"),
    ("+ FK case_id -> cases", "ALTER TABLE {t} ADD FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE"),
    ("+ FK team_id -> org_units",
     "ALTER TABLE {t} ADD FOREIGN KEY (team_id) REFERENCES org_units (id) ON DELETE SET NULL"),
    ("+ FK moment_id -> moments",
     "ALTER TABLE {t} ADD FOREIGN KEY (moment_id) REFERENCES moments (id) ON DELETE SET NULL"),
]


def backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local server process, or None when it is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--postgres-url", default=os.environ.get("SERVICEPULSE_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    args = ap.parse_args()
    df = make_log(args.events, 3)
    url, drop = pg_database(args.postgres_url)
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            cases = pd.unique(df["case_id"])
            with conn.cursor().copy("COPY cases (external_id, attributes) FROM STDIN") as copy:
                copy.write(copy_text([np.asarray(cases, dtype=object), np.full(len(cases), "{}", dtype=object)]))
            teams = pd.unique(df["team"].dropna())
            for name in teams:
                conn.execute("INSERT INTO org_units (key, name, kind) VALUES (%s, %s, 'team')", (name.lower(), name))
            case_id = dict(conn.execute("SELECT external_id, id FROM cases").fetchall())
            team_id = dict(conn.execute("SELECT name, id FROM org_units").fetchall())
            conn.commit()
            ids = df["case_id"].map(case_id).to_numpy(dtype=np.int64)
            order = np.lexsort((df["timestamp"].array.asi8, ids))  # as the importer writes: case, then time
            frame = pd.DataFrame({
                "case_id": ids, "external_id": df["event_id"], "occurred_at": ts_text(df["timestamp"], "postgresql"),
                "seq": df["file_order"], "activity": df["activity"], "channel": df["channel"],
                "direction": df["direction"], "actor": None, "team_id": df["team"].map(team_id),
                "line": df["line"], "customer_facing": df["customer_facing"].astype(bool), "moment_id": None,
                "attributes": "{}", "ingested_at": ts_text(pd.Series([pd.Timestamp.now(tz="UTC")]), "postgresql")[0],
            }).iloc[order]
            data = copy_text([frame[c].to_numpy(dtype=object) for c in COLUMNS])
            print(f"{len(frame):,} events, {len(cases):,} cases; PostgreSQL {conn.info.server_version}; "
                  f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            print(f"{'table has':34s} {'wall s':>7s} {'events/s':>10s} {'server CPU s':>13s} {'server events/s':>16s}")
            done = []
            for i, (label, ddl) in enumerate(LAYERS):
                done.append(ddl)
                table = f"ev_layer_{i}"
                conn.execute(f"CREATE TABLE {table} (LIKE case_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
                for statement in done:
                    conn.execute(statement.format(t=table))
                conn.commit()
                pid = conn.info.backend_pid
                cpu0, t0 = backend_cpu(pid), time.perf_counter()
                with conn.cursor().copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    copy.write(data)
                conn.commit()
                wall, cpu1 = time.perf_counter() - t0, backend_cpu(pid)
                cpu = f"{cpu1 - cpu0:13.2f} {len(frame) / max(cpu1 - cpu0, 1e-9):16,.0f}" if cpu0 is not None else ""
                print(f"{label:34s} {wall:7.2f} {len(frame) / wall:10,.0f} {cpu}")
            # the alternative to per-row checks: COPY without the foreign keys, then add them (one
            # validating join each; needs the table owner and locks case_events while it runs)
            table = f"ev_layer_{len(LAYERS)}"
            conn.execute(f"CREATE TABLE {table} (LIKE case_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            for statement in done[:5]:
                conn.execute(statement.format(t=table))
            conn.commit()
            cpu0, t0 = backend_cpu(pid), time.perf_counter()
            with conn.cursor().copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(data)
            for statement in done[5:]:
                conn.execute(statement.format(t=table))
            conn.commit()
            wall, cpu1 = time.perf_counter() - t0, backend_cpu(pid)
            cpu = f"{cpu1 - cpu0:13.2f} {len(frame) / max(cpu1 - cpu0, 1e-9):16,.0f}" if cpu0 is not None else ""
            print(f"{'same, FKs added after the COPY':34s} {wall:7.2f} {len(frame) / wall:10,.0f} {cpu}")
            print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        drop()


if __name__ == "__main__":
    main()
