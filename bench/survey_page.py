"""Public survey page: server time per request and page weight.

    python bench/survey_page.py [--requests 300] [--database-url postgresql+psycopg://...]

Serves the app in-process (Starlette TestClient, no network), so the times are
the server's: routing, database reads, template rendering, no browser. Prints
p50/p95 milliseconds (wall clock, and the CPU the process spent meanwhile,
which a loaded machine inflates less) and bytes for the states a respondent
sees, with the load average. The page is self-contained (its CSS is inline), so
its bytes are its whole weight. Targets (issue 3): p95 under 50 ms, under 30 KB
without images; the last line says whether every state met them.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from tests.invitations.support import add_customer, seed_world, sent_invitation  # noqa: E402

from servicepulse.app import create_app  # noqa: E402
from servicepulse.db import migrate  # noqa: E402
from servicepulse.db.engine import make_engine  # noqa: E402
from servicepulse.db.session import UnitOfWork  # noqa: E402
from servicepulse.models import utcnow  # noqa: E402
from servicepulse.settings import Settings  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ServerTime:
    """ASGI wrapper: time from the request entering the app to the last body byte leaving it."""

    def __init__(self, app):
        self.app = app
        self.last_ms = 0.0
        self.last_cpu_ms = 0.0  # process CPU meanwhile: the client thread waits, so this is the server's

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, cpu_start = time.perf_counter(), time.process_time()

        async def timed_send(message):
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - start) * 1000
                self.last_cpu_ms = (time.process_time() - cpu_start) * 1000

        await self.app(scope, receive, timed_send)


TARGET_MS, TARGET_BYTES = 50.0, 30 * 1024


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def measure(label: str, call, n: int, timer: ServerTime) -> bool:
    """Print one line of figures; True when the state meets both targets."""
    call()  # warm up (template compilation, first connection)
    server, cpu, round_trip, size = [], [], [], 0
    for _ in range(n):
        start = time.perf_counter()
        response = call()
        round_trip.append((time.perf_counter() - start) * 1000)
        server.append(timer.last_ms)
        cpu.append(timer.last_cpu_ms)
        size = len(response.content)
    print(f"{label:<36} server p50 {statistics.median(server):5.1f} ms  p95 {p95(server):5.1f} ms"
          f"  (CPU p50 {statistics.median(cpu):4.1f} ms  p95 {p95(cpu):4.1f} ms;"
          f" round trip p50 {statistics.median(round_trip):5.1f} ms)"
          f"  {size:6,d} bytes ({size / 1024:.1f} KB)  {response.status_code}")
    return p95(server) < TARGET_MS and size < TARGET_BYTES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with UnitOfWork(engine) as s:
        world = seed_world(s, journey_key="bench", moment_key="contact")
        customer = add_customer(s, f"bench-{time.time_ns()}", email="bench@example.nl")
        _, token = sent_invitation(s, world["survey"], customer, utcnow())
    app = create_app(engine, Settings(secret_key="bench-" + "x" * 40, organisation_name="Glasvezel Noord"))
    print(f"database: {engine.url.render_as_string(hide_password=True)}, {args.requests} requests per line; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    timer = ServerTime(app)
    with TestClient(timer) as client:
        path = f"/s/{token}"
        met = [measure("GET survey (nl, empty)", lambda: client.get(path), args.requests, timer),
               measure("GET survey (en)", lambda: client.get(path + "?lang=en"), args.requests, timer)]
        csrf = CSRF.search(client.get(path).text)[1]
        bad = {"csrf_token": csrf, "q_ces": "0", "q_grade": "x", "q_resolved": "?", "action": "submit"}
        met.append(measure("POST with every answer wrong (422)", lambda: client.post(path, data=bad), args.requests,
                           timer))
        save = {"csrf_token": csrf, "q_ces": "2", "q_grade": "6", "action": "save"}
        met.append(measure("POST save partial answers (303)",
                           lambda: client.post(path, data=save, follow_redirects=False),
                           max(args.requests // 3, 10), timer))
        met.append(measure("GET survey with saved answers", lambda: client.get(path), args.requests, timer))
    print(f"targets (p95 under {TARGET_MS:.0f} ms, under {TARGET_BYTES // 1024} KB): "
          f"{'met by every state' if all(met) else 'NOT met by every state'}; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
