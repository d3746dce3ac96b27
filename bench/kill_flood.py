"""Reliability: SIGKILL the server in the middle of a submission flood, start it again, and check that
every response that received a 2xx is stored exactly once.

    python bench/kill_flood.py                     # SQLite
    python bench/kill_flood.py --db postgresql+psycopg://postgres@127.0.0.1/postgres --kills 3

Client threads post single responses and small batches without pause. Every few
seconds the server process gets SIGKILL (no shutdown, no flush) and is started
again on the same port. Requests that got no answer have an unknown outcome;
like a real client, the flood re-sends them unchanged afterwards, which must be
answered 200 (already stored) or 201 (stored now), never a duplicate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from responses_load import (  # noqa: E402
    REPO,
    Server,
    drop_postgres_database,
    fresh_postgres_database,
    make_response,
    prepare_database,
    verify,
)


class Flood:
    def __init__(self, port: int, key: str, threads: int):
        self.port, self.key, self.threads = port, key, threads
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.lock = threading.Lock()
        self.acknowledged: list[str] = []
        self.unknown: list[list[dict]] = []  # request payloads whose outcome we never heard
        self.statuses: dict[int, int] = {}
        self.retried: dict[int, int] = {}  # final status of requests that needed more than one try
        self.stop = threading.Event()

    def post(self, conn: HTTPConnection, items: list[dict], as_batch: bool) -> int:
        body = json.dumps(items if as_batch else items[0])
        try:
            conn.request("POST", "/api/v1/responses", body=body, headers=self.headers)
            reply = conn.getresponse()
            reply.read()
            return reply.status
        except OSError:
            return 0

    def worker(self, w: int) -> None:
        """Post without pause; a request without an answer is sent again, unchanged, until it gets one."""
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        n = 0
        while not self.stop.is_set():
            size = 1 if n % 3 else 20
            items = [make_response(f"kf-{w}-{n + i}", w * 7919 + n + i) for i in range(size)]
            n += size
            tries = 0
            while True:
                status = self.post(conn, items, as_batch=size > 1)
                tries += 1
                if status != 0:
                    break
                conn.close()
                conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
                if self.stop.is_set():
                    with self.lock:
                        self.unknown.append(items)
                    return
                time.sleep(0.2)
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if tries > 1:
                    self.retried[status] = self.retried.get(status, 0) + 1
                if 200 <= status < 300:
                    self.acknowledged += [i["external_id"] for i in items]

    def run(self) -> list[threading.Thread]:
        pool = [threading.Thread(target=self.worker, args=(w,), daemon=True) for w in range(self.threads)]
        for t in pool:
            t.start()
        return pool

    def resend_unknown(self) -> dict[int, int]:
        """Send every unanswered request again, unchanged: a replay must be a 200, a first arrival a 201."""
        outcome: dict[int, int] = {}
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        for items in self.unknown:
            status = self.post(conn, items, as_batch=len(items) > 1)
            outcome[status] = outcome.get(status, 0) + 1
            if 200 <= status < 300:
                self.acknowledged += [i["external_id"] for i in items]
        return outcome


def sqlite_integrity(url: str) -> str:
    if not url.startswith("sqlite"):
        return "n/a"
    import sqlite3

    with sqlite3.connect(url.split("///", 1)[1]) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temporary folder)")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--interval", type=float, default=4.0, help="seconds of flood before each kill")
    parser.add_argument("--threads", type=int, default=6)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))

    workdir = Path(tempfile.mkdtemp(prefix="sp-killflood-"))
    url = fresh_postgres_database(args.db) if args.db else f"sqlite:///{workdir / 'flood.sqlite'}"
    key = prepare_database(url)
    server = Server(url, workdir).start()
    flood = Flood(server.port, key, args.threads)
    pool = flood.run()
    kills = []
    try:
        for k in range(args.kills):
            time.sleep(args.interval)
            before = len(flood.acknowledged)
            server.kill()
            kills.append(before)
            print(f"kill {k + 1}: SIGKILL to pid {server.proc.pid} after {before} acknowledged responses")
            time.sleep(0.5)
            server = Server(url, workdir, port=server.port).start()
        time.sleep(args.interval)
    finally:
        flood.stop.set()
        for t in pool:
            t.join()
    resent = flood.resend_unknown()
    server.stop()
    check = verify(url, flood.acknowledged)
    if url.startswith("postgresql"):
        drop_postgres_database(url)
    lost_requests = sum(len(items) for items in flood.unknown)
    print(f"requests by final status: {dict(sorted(flood.statuses.items()))}; of these, {sum(flood.retried.values())} "
          f"were cut off by a kill and sent again: {dict(sorted(flood.retried.items()))} "
          f"(200 = had been stored before the kill, 201 = stored on the retry)")
    print(f"unanswered when the flood stopped, sent once more: {len(flood.unknown)} requests ({lost_requests} responses), "
          f"statuses {resent}")
    print(f"verify: {check['distinct_acknowledged']} responses acknowledged with a 2xx, {check['found']} in the "
          f"database, {check['duplicates']} duplicate external ids, {check['rows_in_table']} rows in total; "
          f"SQLite integrity_check: {sqlite_integrity(url)}")
    failed = (check["found"] != check["distinct_acknowledged"] or check["duplicates"]
              or check["rows_in_table"] != check["distinct_acknowledged"]
              or any(s >= 300 or s == 0 for s in list(resent) + list(flood.statuses)))
    print("RESULT:", "FAILED" if failed else "OK: every acknowledged response is stored exactly once")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
