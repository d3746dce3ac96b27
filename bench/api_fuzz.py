"""Schemathesis with every check against the served API of a demo installation.

    python bench/api_fuzz.py [--size tiny|small] [--max-examples N]

Loads the demo into a temporary SQLite database, serves it with `servicepulse serve` on a
free loopback port, creates an API key with every scope an administrator may hold, and runs
`st run --checks all --max-response-time 10` over every operation of /api/v1/openapi.json.
Prints the operations tested, the failures per check, and Schemathesis's own summary;
exits non-zero when any server error (5xx) or any request over 10 s was seen.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SCOPES = ["read:surveys", "read:metrics", "read:responses", "write:responses", "write:events", "read:cases",
          "read:followups", "write:projects", "admin"]  # an administrator may hold all but write:followups (agents and leads)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--max-examples", type=int, default=25)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="api-fuzz-"))
    env = {**os.environ, "SERVICEPULSE_DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
           "SERVICEPULSE_DATA_DIR": str(folder / "data"), "SERVICEPULSE_SECRET_KEY": "fuzz-" + "x" * 40,
           "COLUMNS": "200"}
    cli = [sys.executable, "-m", "servicepulse"]
    print(f"loading the {args.size} demo ...", flush=True)
    subprocess.run([*cli, "demo", "--no-serve", "--size", args.size], env=env, check=True, capture_output=True)
    made = subprocess.run([*cli, "apikey", "create", "fuzz", "--user", "admin@demo.servicepulse",
                           *[a for scope in SCOPES for a in ("--scope", scope)]],
                          env=env, check=True, capture_output=True, text=True)
    key = made.stdout.strip().splitlines()[-1]  # printed once, alone on the last line
    port = free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        st = shutil.which("st") or "st"
        command = [st, "run", base + "/api/v1/openapi.json", "--checks", "all", "--max-response-time", "10",
                   "--max-examples", str(args.max_examples), "--workers", "1", "--seed", "1",
                   "-H", f"Authorization: Bearer {key}", "--no-color"]
        print("$ " + " ".join(c if "Bearer" not in c else "Authorization: Bearer ***" for c in command), flush=True)
        started = time.perf_counter()
        run = subprocess.run(command, capture_output=True, text=True, env={**env, "COLUMNS": "160"}, cwd=folder)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)
    out = run.stdout + run.stderr
    print(out[-12000:])
    server_errors = len(re.findall(r"Server error", out))
    slow = len(re.findall(r"Response time limit exceeded", out))
    print(f"schemathesis ran {seconds:.0f} s; 'Server error' failures: {server_errors}; "
          f"requests over 10 s: {slow}; exit code {run.returncode}")
    return 1 if server_errors or slow else 0


if __name__ == "__main__":
    sys.exit(main())
