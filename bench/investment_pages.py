"""Investment pages: server time per render, direct computation against the per-process cache.

    python bench/investment_pages.py [--renders 3] [--size small] [--url sqlite:////tmp/x/sp.db]

Without --url the demo (--size) is loaded into a temporary SQLite file first (~30 s for small); with --url a
database that already holds data is used (it gets one bench user, and one event is added and removed again at
the end: use a copy). Serves the app in-process (Starlette TestClient, no network) as an administrator and
renders /investment (whole history and a period), its two CSV exports, and a department report page (which
calls the investment section, registry.DEPARTMENT_SECTIONS) --renders times each:

- ``direct``: `service.compute_contact_analysis` on every call (how the pages worked before the cache);
- ``cached``: `service.contact_analysis`: the first render computes the frame of the whole history, the next
  ones reuse it; then one new event arrives and the next render recomputes (the fingerprint changed).

Prints median and max milliseconds per page (wall clock; the machine is shared, so also the load average).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402
from tests.web.conftest import login  # noqa: E402

from servicepulse.app import create_app  # noqa: E402
from servicepulse.db import migrate  # noqa: E402
from servicepulse.db.engine import make_engine  # noqa: E402
from servicepulse.db.session import UnitOfWork  # noqa: E402
from servicepulse.demo import load_demo  # noqa: E402
from servicepulse.investment import service  # noqa: E402
from servicepulse.models import CaseEvent, OrgUnit, User  # noqa: E402
from servicepulse.org import service as org_service  # noqa: E402
from servicepulse.settings import Settings  # noqa: E402

PASSWORD = "correct horse battery"
EMAIL = "bench-investment@example.org"


def _pages(engine) -> list[str]:
    with UnitOfWork(engine, readonly=True) as s:
        key = s.scalar(select(OrgUnit.key).where(OrgUnit.kind == "department").order_by(OrgUnit.name))
    pages = ["/investment", "/investment?from=2026-03-01&to=2026-06-01", "/investment?measure=grade",
             "/investment/compass.csv", "/investment/contacts.csv", "/investment/teams"]
    if key:
        pages.append(f"/verbatims/departments/{key}")
    return pages


def _render(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    return elapsed


def _line(label: str, times: list[float]) -> str:
    return f"  {label:<48} median {statistics.median(times):8.0f} ms   max {max(times):8.0f} ms   n={len(times)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=3)
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--url", help="a database holding data (default: the demo in a temporary SQLite file)")
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory(prefix="investment-bench-")
    url = args.url or f"sqlite:///{Path(folder.name) / 'demo.sqlite'}"
    engine = make_engine(url)
    if args.url is None:
        migrate.upgrade(engine)
        load_demo(engine, size=args.size, seed=args.seed, reset=True)
    with UnitOfWork(engine) as s:
        if s.scalar(select(User.id).where(User.email == EMAIL)) is None:
            org_service.create_user(s, EMAIL, "Bench", PASSWORD, "admin", language="nl")
        events = s.scalar(select(func.count(CaseEvent.id)))
    settings = Settings(secret_key="bench-secret-" + "x" * 32, data_dir=Path(folder.name))
    client = TestClient(create_app(engine, settings), base_url="http://testserver")
    client.__enter__()
    if login(client, EMAIL, PASSWORD).status_code != 303:
        raise SystemExit("bench user cannot log in")
    pages = _pages(engine)
    print(f"investment pages: backend={engine.dialect.name} events={events:,} renders={args.renders} "
          f"cpus={os.cpu_count()} load-average={os.getloadavg()[0]:.1f}")

    cached = service.contact_analysis
    print("direct (every render reads and classifies every event):")
    service.contact_analysis = service.compute_contact_analysis
    try:
        for path in pages:
            print(_line(path, [_render(client, path) for _ in range(args.renders)]))
    finally:
        service.contact_analysis = cached

    print("cached (first render computes the whole history, the next ones reuse it):")
    service.clear_cache()
    first = _render(client, pages[0])
    print(_line(f"{pages[0]} (first, computes)", [first]))
    for path in pages:
        print(_line(path, [_render(client, path) for _ in range(args.renders)]))
    with UnitOfWork(engine) as s:
        last = s.scalars(select(CaseEvent).order_by(CaseEvent.id.desc()).limit(1)).one()
        new = CaseEvent(case_id=last.case_id, occurred_at=datetime.now(UTC), seq=last.seq + 1,
                        activity="Customer calls: where is my order", channel="phone", direction="inbound",
                        customer_facing=True, moment_id=last.moment_id, attributes={})
        s.add(new)
        s.flush()
        new_id, case_id, seq, moment_id = new.id, last.case_id, last.seq, last.moment_id
    print(_line(f"{pages[0]} (after a new event: recomputes)", [_render(client, pages[0])]))
    print(_line(f"{pages[0]} (then reused)", [_render(client, pages[0]) for _ in range(args.renders)]))
    # the job investment.warm_cache after data arrive (a second new event): the visitor finds the frame warm
    with UnitOfWork(engine) as s:
        second = CaseEvent(case_id=case_id, occurred_at=datetime.now(UTC), seq=seq + 2,
                           activity="Customer calls again", channel="phone", direction="inbound",
                           customer_facing=True, moment_id=moment_id, attributes={})
        s.add(second)
        s.flush()
        second_id = second.id
    with UnitOfWork(engine, readonly=True) as s:
        start = time.perf_counter()
        computed = service.warm(s, settings)
        warm_ms = (time.perf_counter() - start) * 1000
    print(_line(f"job investment.warm_cache (after a new event; computed={computed})", [warm_ms]))
    print(_line(f"{pages[0]} (after the warm job)", [_render(client, pages[0]) for _ in range(args.renders)]))
    with UnitOfWork(engine) as s:
        s.execute(delete(CaseEvent).where(CaseEvent.id.in_([new_id, second_id])))
    client.__exit__(None, None, None)
    engine.dispose()


if __name__ == "__main__":
    main()
