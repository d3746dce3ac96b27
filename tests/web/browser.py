"""Reusable helpers for browser tests in real headless Chromium (Debian's /usr/bin/chromium via Playwright).

    from tests.web.browser import live_server, chromium_page

    def test_something(engine):
        with live_server(engine) as base_url, chromium_page() as page:
            page.goto(base_url + "/login")

`chromium_page()` skips the test (with the reason) when Chromium is not
installed; Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SERVICEPULSE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(engine, settings=None, app=None) -> Iterator[str]:
    """Serve the real app (uvicorn, background thread) on a free loopback port; yields the base URL."""
    import uvicorn

    from servicepulse.app import create_app
    from servicepulse.settings import Settings

    if app is None:
        settings = settings or Settings(secret_key="browser-test-secret-" + "x" * 24)
        app = create_app(engine, settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"live-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the live server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium_path() -> str | None:
    path = Path(CHROMIUM)
    if path.exists():
        return str(path)
    return shutil.which("chromium")


def require_chromium() -> str:
    """Chromium's path; without it the test skips with the reason, or fails where browser
    tests must run (.ci/run sets SERVICEPULSE_REQUIRE_BROWSER=1)."""
    executable = chromium_path()
    if executable is None:
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium"
        if os.environ.get("SERVICEPULSE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (SERVICEPULSE_REQUIRE_BROWSER=1: browser tests must run here)")
        pytest.skip(reason)
    return executable


_browser = None  # one headless Chromium per test process, started on first use


def shared_browser():
    """The process's Chromium (Playwright's driver and the browser start once: ~1.5 s of CPU each time);
    every test gets its own context, so no cookies or storage pass between tests."""
    global _browser
    executable = require_chromium()
    if _browser is None or not _browser.is_connected():
        import atexit

        from playwright.sync_api import sync_playwright

        driver = sync_playwright().start()
        _browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)

        def stop(browser=_browser) -> None:
            browser.close()
            driver.stop()

        atexit.register(stop)
    return _browser


@contextmanager
def browser_context(**options):
    """A fresh browser context (own cookies, storage, options) in the process's Chromium."""
    context = shared_browser().new_context(**options)
    try:
        context.set_default_timeout(15_000)
        yield context
    finally:
        context.close()


@contextmanager
def chromium_page():
    """A Playwright page in headless Chromium; skips the test when Chromium is missing."""
    with browser_context(locale="nl-NL") as context:
        yield context.new_page()
