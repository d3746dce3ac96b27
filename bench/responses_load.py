"""Load benchmark of the response API: the real server in its own process, a load generator in another.

    python bench/responses_load.py                      # SQLite in a temporary folder
    python bench/responses_load.py --db postgresql+psycopg://postgres@127.0.0.1/sp_bench
    python bench/responses_load.py --duration 10 --modes single
    python bench/responses_load.py --aggregate          # with the metric aggregate built first

Phases (each --duration seconds): `batch` posts lists of --batch-size responses,
`single` posts one response per request. Prints responses/s, requests/s and
p50/p95 latency per phase, then checks that every response that received a
2xx is in the database exactly once. Nothing here asserts timings; it prints.

`--aggregate` first stores --history-days of earlier answers and builds
`score_daily_counts` from them, as in a running installation: then every
write group also pays for its delta rows (`add_to_daily_counts`), and the
figures in the aggregate are checked against the raw table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC
from http.client import HTTPConnection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- set-up and server

def prepare_database(url: str, customers: int = 2000, aggregate: bool = False, history_days: int = 60,
                     history_per_day: int = 200) -> str:
    """Migrate an empty database, add a journey, the after-contact survey, customers and an API key; with
    ``aggregate``, earlier answers and the metric aggregate built from them."""
    from sqlalchemy import insert

    from servicepulse.db import migrate
    from servicepulse.db.engine import make_engine
    from servicepulse.db.session import UnitOfWork
    from servicepulse.models import Customer, Journey, Moment
    from servicepulse.org.service import create_api_key
    from servicepulse.surveys import load_template

    engine = make_engine(url)
    migrate.upgrade(engine)
    with UnitOfWork(engine) as s:
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Contact", name_en="Contact",
                                      kind="functional", norm=7.0))
        s.add(journey)
        s.flush()
        version = load_template(s, "after_contact")
        s.execute(insert(Customer), [{"external_id": f"C-{i}", "language": "nl", "attributes": {}} for i in range(customers)])
        key = create_api_key(s, f"bench-{uuid.uuid4().hex[:6]}").key
        if aggregate:
            rows = build_history(s, version.id, journey.moments[0].id, history_days, history_per_day)
            print(f"aggregate: {history_days * history_per_day:,} earlier answers, {rows:,} aggregate rows built")
    engine.dispose()
    return key


def build_history(s, version_id: int, moment_id: int, days: int, per_day: int) -> int:
    """Earlier answers on the days before the load's day (2026-03-02), then the aggregate built from them."""
    from datetime import datetime, timedelta

    from sqlalchemy import insert

    from servicepulse.models import Response
    from servicepulse.responses import refresh_daily_counts

    start = datetime(2026, 3, 2, tzinfo=UTC) - timedelta(days=days)
    rows = [{"external_id": f"H-{i}", "survey_version_id": version_id, "moment_id": moment_id, "channel": "email", "language": "nl",
             "submitted_at": start + timedelta(days=i // per_day, minutes=i % per_day),
             "nps": i % 11, "grade": 1 + i % 10, "ces": 1 + i % 7}
            for i in range(days * per_day)]
    s.execute(insert(Response), rows)
    return refresh_daily_counts(s)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`uvicorn servicepulse.app:create_app` in its own process."""

    def __init__(self, url: str, data_dir: Path, port: int | None = None, workers: int = 1):
        self.url, self.data_dir, self.workers = url, data_dir, workers
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Server:
        env = dict(os.environ, SERVICEPULSE_DATABASE_URL=self.url, SERVICEPULSE_DATA_DIR=str(self.data_dir),
                   SERVICEPULSE_SECRET_KEY="bench-" + "x" * 40, PYTHONPATH=str(REPO / "src"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "servicepulse.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log", "--workers", str(self.workers)],
            env=env, cwd=str(self.data_dir))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with code {self.proc.returncode} during start-up")
            try:
                conn = HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the server did not answer /health within a minute")

    def cpu_seconds(self) -> float:
        """User + system CPU the server (and its worker processes) used so far (Linux /proc)."""
        total = 0
        for pid in [self.proc.pid] + _children(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush; what was committed must survive."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------- load generator (its own process)

def make_response(external_id: str, n: int) -> dict:
    ces = 1 + n % 7
    return {"external_id": external_id, "survey": "after_contact", "customer": f"C-{n % 2000}",
            "submitted_at": "2026-03-02T10:15:00+01:00", "language": "nl" if n % 3 else "en",
            "answers": {"ces": ces, "grade": 1 + n % 10, "resolved": ("yes", "partly", "no")[n % 3],
                        "why": "Snel en vriendelijk geholpen" if ces > 4 else "Te lang moeten wachten op een reactie"}}


def generate(port: int, key: str, mode: str, duration: float, threads: int, batch_size: int, out: Path,
             prefix: str) -> None:
    """Post until the deadline from `threads` keep-alive connections; write latencies and 2xx'd ids to `out`."""
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    ok_ids: list[str] = []
    unknown_ids: list[str] = []  # sent, but no answer (connection dropped): outcome unknown
    statuses: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def worker(w: int) -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < deadline:
            ids = [f"{prefix}-{w}-{n + i}" for i in range(batch_size if mode == "batch" else 1)]
            items = [make_response(x, w * 1_000_003 + n + i) for i, x in enumerate(ids)]
            body = json.dumps(items if mode == "batch" else items[0])
            n += len(ids)
            start = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/responses", body=body, headers=headers)
                reply = conn.getresponse()
                reply.read()
                status = reply.status
            except OSError:
                status = 0
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if 200 <= status < 300:
                    latencies.append(elapsed)
                    ok_ids.extend(ids)
                elif status == 0:
                    unknown_ids.extend(ids)

    pool = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.write_text(json.dumps({"latencies": latencies, "ok_ids": ok_ids, "unknown_ids": unknown_ids,
                               "statuses": statuses, "duration": duration}))


def run_generator_process(port: int, key: str, mode: str, duration: float, threads: int, batch_size: int,
                          workdir: Path, prefix: str) -> dict:
    import resource

    out = workdir / f"gen-{prefix}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, __file__, "--generator", "--port", str(port), "--key", key, "--mode", mode,
                    "--duration", str(duration), "--threads", str(threads), "--batch-size", str(batch_size),
                    "--out", str(out), "--prefix", prefix], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(out.read_text())
    result["generator_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


# ---------------------------------------------------------------- checks and figures

def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def verify(url: str, ok_ids: list[str]) -> dict:
    """Every 2xx'd id stored exactly once (and the table holds no duplicate external ids at all)."""
    from sqlalchemy import func, select

    from servicepulse.db.engine import make_engine
    from servicepulse.models import Response

    engine = make_engine(url)
    found = 0
    with engine.connect() as conn:
        for start in range(0, len(ok_ids), 500):
            chunk = ok_ids[start:start + 500]
            found += conn.scalar(select(func.count()).select_from(Response).where(Response.external_id.in_(chunk)))
        duplicates = conn.scalar(select(func.count()).select_from(
            select(Response.external_id).group_by(Response.external_id).having(func.count() > 1).subquery()))
        total = conn.scalar(select(func.count()).select_from(Response))
    engine.dispose()
    return {"acknowledged": len(ok_ids), "distinct_acknowledged": len(set(ok_ids)), "found": found,
            "duplicates": duplicates, "rows_in_table": total}


def check_aggregate(url: str) -> bool:
    """The aggregate's figures equal the raw table's after the load, and again after the upkeep job's fold
    (timed: it holds the table lock that ingests wait for)."""
    import pandas as pd
    from sqlalchemy import func, select

    from servicepulse.db.engine import make_engine
    from servicepulse.db.session import UnitOfWork
    from servicepulse.metrics import repository as repo
    from servicepulse.models import ScoreDailyCount
    from servicepulse.responses import keep_daily_counts

    def same() -> bool:
        with UnitOfWork(engine, readonly=True) as s:
            try:
                for by in (None, "period", "moment"):
                    pd.testing.assert_frame_equal(repo.metric_sums(s, by=by, source="raw"),
                                                  repo.metric_sums(s, by=by, source="daily"), check_dtype=False)
            except AssertionError as exc:
                print(f"aggregate differs from raw: {exc}")
                return False
        return True

    def rows() -> int:
        with UnitOfWork(engine, readonly=True) as s:
            return s.scalar(select(func.count()).select_from(ScoreDailyCount))

    engine = make_engine(url)
    before, equal_before = rows(), same()
    t = time.perf_counter()
    with UnitOfWork(engine) as s:
        done = keep_daily_counts(s)
    took = time.perf_counter() - t
    equal_after = same()
    print(f"aggregate: {before:,} rows after the load (figures equal raw: {equal_before}); the fold of "
          f"{len(done.days)} day(s) took {took:.2f} s and left {rows():,} rows (figures equal raw: {equal_after}); "
          f"load average {os.getloadavg()[0]:.1f}")
    engine.dispose()
    return equal_before and equal_after


def report(name: str, result: dict, batch_size: int, server_cpu: float) -> None:
    lat = result["latencies"]
    per_request = batch_size if name == "batch" else 1
    responses = len(result["ok_ids"])
    print(f"{name:>6}: {responses / result['duration']:8.0f} responses/s  {len(lat) / result['duration']:7.0f} requests/s"
          f"  ({per_request}/request)  p50 {percentile(lat, 50) * 1000:6.1f} ms  p95 {percentile(lat, 95) * 1000:6.1f} ms"
          f"  statuses {result['statuses']}")
    if lat:
        print(f"        server CPU {server_cpu:.1f} s = {server_cpu / len(lat) * 1000:.2f} ms per request, "
              f"{server_cpu / max(responses, 1) * 1000:.2f} ms per response; load generator CPU "
              f"{result['generator_cpu']:.1f} s; load average now {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--modes", default="batch,single")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--threads", type=int, default=0, help="client connections (default: 4 batch, 8 single)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--aggregate", action="store_true",
                        help="build the metric aggregate before the load (every write then adds delta rows)")
    parser.add_argument("--generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        generate(args.port, args.key, args.mode, args.duration, args.threads, args.batch_size, Path(args.out), args.prefix)
        return

    sys.path.insert(0, str(REPO / "src"))
    workdir = Path(tempfile.mkdtemp(prefix="sp-bench-"))
    url = args.db or f"sqlite:///{workdir / 'bench.sqlite'}"
    if args.db and args.db.startswith("postgresql"):
        url = fresh_postgres_database(args.db)
    key = prepare_database(url, aggregate=args.aggregate)
    server = Server(url, workdir, workers=args.workers).start()
    print(f"server pid {server.proc.pid} on 127.0.0.1:{server.port}, database {url.split('@')[-1]}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    all_ok: list[str] = []
    try:
        for mode in args.modes.split(","):
            threads = args.threads or (4 if mode == "batch" else 8)
            cpu_before = server.cpu_seconds()
            result = run_generator_process(server.port, key, mode, args.duration, threads, args.batch_size, workdir,
                                           prefix=f"{mode}-{uuid.uuid4().hex[:6]}")
            report(mode, result, args.batch_size, server.cpu_seconds() - cpu_before)
            all_ok += result["ok_ids"]
    finally:
        server.stop()
    check = verify(url, all_ok)
    aggregate_ok = check_aggregate(url) if args.aggregate else True
    if url.startswith("postgresql"):
        drop_postgres_database(url)
    print(f"verify: {check['acknowledged']} responses got a 2xx, {check['found']} of them are in the database, "
          f"{check['duplicates']} duplicate external ids, {check['rows_in_table']} rows in total")
    if check["found"] != check["distinct_acknowledged"] or check["duplicates"]:
        raise SystemExit("FAILED: acknowledged responses are missing or duplicated")
    if not aggregate_ok:
        raise SystemExit("FAILED: the aggregate's figures differ from the raw table's")


def drop_postgres_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def fresh_postgres_database(url: str) -> str:
    """Benchmark in a new database next to the one named (which is only used to connect)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"sp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
