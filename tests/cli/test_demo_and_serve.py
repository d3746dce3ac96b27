"""`servicepulse demo` and `servicepulse serve`: load, report the counts, serve, log in."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import httpx
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Case, Customer, FollowUp, Journey, Moment, Response, User
from servicepulse.models.cases import EffortModel
from servicepulse.models.expectations import ForecastSnapshot, Signal
from servicepulse.models.verbatims import Verbatim

from ..web.browser import free_port
from .conftest import url_of


def _table_count(output: str, label: str) -> int:
    match = re.search(rf"│ {label}\s+│\s+([\d,]+) │", output)
    assert match, f"no row {label!r} in:\n{output}"
    return int(match.group(1).replace(",", ""))


def test_demo_loads_and_reports_what_is_in_the_database(cli, engine):
    run = cli(url_of(engine), "demo", "--no-serve", "--size", "tiny", "--seed", "7")
    assert run.code == 0, run.err
    with UnitOfWork(engine, readonly=True) as s:
        in_db = {label: s.scalar(select(func.count()).select_from(model)) for label, model in
                 [("customers", Customer), ("cases", Case), ("responses", Response), ("journeys", Journey),
                  ("moments", Moment), ("users", User)]}
    assert all(in_db.values())
    for label, n in in_db.items():
        assert _table_count(run.out, label) == n
    assert "Demo logins" in run.out and "password" in run.out
    # the expectations dashboard is complete at first sight: open cases carry a forecast, signals are raised
    with UnitOfWork(engine, readonly=True) as s:
        snapshots = s.scalar(select(func.count()).select_from(ForecastSnapshot))
        signals = s.scalar(select(func.count()).select_from(Signal))
        open_cases = s.scalar(select(func.count()).select_from(Case).where(Case.closed_at.is_(None)))
    assert 0 < snapshots <= open_cases and signals > 0
    said = " ".join(run.out.split())  # the console wraps at its width (80 columns without a terminal)
    assert f"{snapshots:,} open cases forecast, {signals:,} signals raised" in said
    with UnitOfWork(engine, readonly=True) as s:
        comments = s.scalar(select(func.count()).select_from(Verbatim))
        followups = s.scalar(select(func.count()).select_from(FollowUp))
    assert comments > 0 and f"{comments:,} open answers analysed, {followups:,} follow-ups opened" in said
    assert followups > 0
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(EffortModel)) == 1  # the case pages show the index

    again = cli(url_of(engine), "demo", "--no-serve", "--size", "tiny")
    assert again.code == 0 and "already in this database" in again.out
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == in_db["customers"]  # nothing added twice


def _read_until(process, pattern: str, timeout: float) -> str:
    """Collect the process's output until a line matches (a reader thread, so a hang cannot block the test)."""
    lines: list[str] = []
    found = threading.Event()

    def reader():
        for line in process.stdout:
            lines.append(line)
            if re.search(pattern, line):
                found.set()

    threading.Thread(target=reader, daemon=True).start()
    if not found.wait(timeout):
        process.kill()
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{''.join(lines)}")
    return "".join(lines)


def test_demo_on_the_embedded_database_then_serve_and_log_in(tmp_path):
    """What a new user does: `servicepulse demo` with no configuration at all, then opens the browser."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEPULSE_")}
    env.update(COLUMNS="200", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "servicepulse", "demo", "--size", "tiny", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = _read_until(process, r"Uvicorn running|Application startup complete", timeout=240)
        assert (tmp_path / "servicepulse-data" / "servicepulse.db").exists()  # the embedded default
        login = re.search(r"login as (\S+) with password (\S+)", output)
        assert login and f"http://127.0.0.1:{port}/" in output, output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/health").json()["status"] == "ok"
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
            response = client.post("/login", data={"email": login[1], "password": login[2], "csrf_token": token})
            assert response.status_code == 303
            home = client.get("/")
            assert home.status_code == 200 and 'class="badge badge-emotional"' in home.text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
