"""The HTTP edge: proxy headers only from configured proxies, a request size limit, no-store, HSTS,
and access logs without survey tokens. Live tests serve the real app with the configuration
`servicepulse serve` uses, on a free loopback port."""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import sys
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount
from uvicorn.logging import AccessFormatter
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from servicepulse.app import create_app
from servicepulse.cli.serve_command import server_config
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ConfigurationError
from servicepulse.http.access_log import ACCESS_FORMAT, TOKEN_MARK, RedactTokens, redact_path
from servicepulse.http.throttle import LoginThrottle, Policy
from servicepulse.models import CaseEvent
from servicepulse.org import service
from servicepulse.settings import Settings

from .browser import free_port
from .conftest import csrf_from, login

PROBLEM = "application/problem+json"
LIMIT = 2000  # bytes, for the size-limit tests


def _settings(tmp_path, **values) -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, **values)


def _key(engine, name="crm") -> str:
    with UnitOfWork(engine) as s:
        return service.create_api_key(s, name, scopes=service.INSTALLATION_SCOPES).key


@pytest.fixture
def restore_logging():
    """server_config sets up the process's logging (as `serve` must); put it back for the next tests."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).level,
                    logging.getLogger(name).propagate, logging.getLogger(name).filters[:]) for name in names}
    yield
    for name, (handlers, level, propagate, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.setLevel(level)
        logger.propagate = propagate


@contextmanager
def serving(config: uvicorn.Config):
    """Run uvicorn with `config` in a background thread; yields the base URL."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"hardening-{config.port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server on port {config.port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _serve_config(app, settings):
    return server_config(app, settings, "127.0.0.1", free_port())


# --- 1. proxy headers -----------------------------------------------------------------------------


def test_proxy_headers_are_off_unless_proxies_are_configured(app, tmp_path, restore_logging):
    config = _serve_config(app, _settings(tmp_path))
    assert config.proxy_headers is False
    config.load()
    assert not isinstance(config.loaded_app, ProxyHeadersMiddleware)  # uvicorn's default would trust 127.0.0.1


def test_proxy_headers_only_from_the_configured_addresses(app, tmp_path, monkeypatch, restore_logging):
    monkeypatch.setenv("SERVICEPULSE_TRUSTED_PROXIES", " 10.0.0.5, 192.168.0.0/24 ,")
    config = _serve_config(app, Settings(secret_key="s" * 40, data_dir=tmp_path))
    assert config.proxy_headers is True
    assert config.forwarded_allow_ips == ["10.0.0.5", "192.168.0.0/24"]
    config.load()
    trusted = config.loaded_app.trusted_hosts
    assert isinstance(config.loaded_app, ProxyHeadersMiddleware)
    assert "10.0.0.5" in trusted and "192.168.0.77" in trusted
    assert "127.0.0.1" not in trusted and "10.0.0.6" not in trusted


def test_a_wrong_proxy_entry_names_the_setting(app, tmp_path):
    with pytest.raises(ConfigurationError, match=r"SERVICEPULSE_TRUSTED_PROXIES: 'proxy\.local' is not an IP"):
        _serve_config(app, _settings(tmp_path, trusted_proxies="10.0.0.5, proxy.local"))


def _failed_login_from(base_url: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        token = csrf_from(browser.get("/login").text)
        response = browser.post("/login", data={"email": "ann@example.org", "password": "wrong", "next": "/",
                                                "csrf_token": token},
                                headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 400


@pytest.mark.parametrize("trusted, counted, ignored", [
    ("", "127.0.0.1", "203.0.113.9"),  # the default: the header is the client's word, not believed
    ("127.0.0.1", "203.0.113.9", "127.0.0.1"),  # behind a configured proxy: the address it forwards
])
def test_the_login_throttle_counts_the_connecting_address_unless_a_proxy_is_trusted(
        engine, tmp_path, make_user, restore_logging, trusted, counted, ignored):
    make_user("ann@example.org")
    settings = _settings(tmp_path, trusted_proxies=trusted)
    app = create_app(engine, settings)
    app.state.login_throttle = throttle = LoginThrottle(address_policy=Policy(free=1))
    with serving(_serve_config(app, settings)) as url:
        _failed_login_from(url, "203.0.113.9")
    assert throttle.addresses.wait(counted) > 0
    assert throttle.addresses.wait(ignored) == 0


# --- 2. request size limit ------------------------------------------------------------------------


@pytest.fixture
def small_limit_client(engine, tmp_path):
    with TestClient(create_app(engine, _settings(tmp_path, max_request_bytes=LIMIT))) as c:
        yield c


def test_a_declared_large_api_body_gets_problem_json_413(small_limit_client, engine):
    key = _key(engine)
    event = {"case_id": "C-1", "activity": "Melding", "timestamp": "2026-03-02T09:00:00+01:00"}
    small = small_limit_client.post("/api/v1/events", json=event, headers={"Authorization": f"Bearer {key}"})
    assert small.status_code == 201
    batch = [dict(event, event_id=f"e-{i}", activity="x" * 100) for i in range(30)]
    assert len(json.dumps(batch)) > LIMIT
    refused = small_limit_client.post("/api/v1/events", json=batch, headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith(PROBLEM)
    body = refused.json()
    assert body["status"] == 413 and str(LIMIT) in body["detail"]
    assert body["errors"] == [{"location": "body", "field": "/", "message": f"at most {LIMIT} bytes"}]
    with UnitOfWork(engine, readonly=True) as s:  # nothing of the refused batch was stored
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_a_large_form_gets_a_page_in_the_visitors_language(small_limit_client):
    form = {"email": "ann@example.org", "password": "p" * (LIMIT + 1)}
    dutch = small_limit_client.post("/login", data=form)
    assert dutch.status_code == 413 and dutch.headers["content-type"].startswith("text/html")
    assert "Te veel gegevens" in dutch.text and "Ten hoogste 2 kB per keer." in dutch.text
    english = small_limit_client.post("/login", data=form, headers={"Accept-Language": "en"})
    assert english.status_code == 413
    assert "Too much data" in english.text and "At most 2 kB at a time." in english.text
    assert "p" * 100 not in english.text


def test_a_chunked_body_without_content_length_is_counted(small_limit_client):
    def body():
        for _ in range(5):
            yield b"x" * 1000

    response = small_limit_client.post("/s/some-token", content=body(),
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and "Te veel gegevens" in response.text


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _raw_request(url: str, head: str, chunks: list[bytes]) -> bytes:
    """Send a request head and body chunks but never the end of the body; the server's whole answer."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        for data in chunks:
            sock.sendall(data)
        answer = b""
        while part := sock.recv(65536):  # the server closes after its 413; a wait would time out the test
            answer += part
    return answer


@pytest.mark.parametrize("path, sent_type, media_type, text", [
    ("/api/v1/events", "application/json", PROBLEM, b'"status":413'),
    ("/s/some-token", "application/x-www-form-urlencoded", "text/html", b"Te veel gegevens"),
])
def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(engine, tmp_path, restore_logging,
                                                                   path, sent_type, media_type, text):
    settings = _settings(tmp_path, max_request_bytes=LIMIT)
    with serving(_serve_config(create_app(engine, settings), settings)) as url:
        # Three chunks pass the limit; the body is never finished, so only an early refusal answers.
        chunked = _raw_request(url, f"POST {path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                                    f"Content-Type: {sent_type}\r\n\r\n",
                               [_chunk(b"x" * 1000) for _ in range(3)])
        # A declared length above the limit is refused before a byte of the body is sent.
        declared = _raw_request(url, f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 50000000\r\n"
                                     f"Content-Type: {sent_type}\r\n\r\n", [])
    for answer in (chunked, declared):
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 ")
        assert f"content-type: {media_type}".encode() in head.lower()
        assert b"connection: close" in head.lower()
        assert text in body


def test_a_non_positive_limit_is_refused_at_start(engine, tmp_path):
    with pytest.raises(ConfigurationError, match="SERVICEPULSE_MAX_REQUEST_BYTES"):
        create_app(engine, _settings(tmp_path, max_request_bytes=0))


# --- 3. no-store, 4. HSTS -------------------------------------------------------------------------


def test_dynamic_responses_are_not_stored_static_files_may_be(client, engine, make_user):
    make_user("ana@example.org", role="analyst", language="en")
    assert client.get("/login").headers["cache-control"] == "no-store"
    login(client, "ana@example.org")
    responses = {
        "home": client.get("/"),
        "csv export": client.get("/improvement/scan.csv"),
        "pdf report": client.get("/improvement/scan.pdf"),
        "api": client.get("/api/v1/surveys", headers={"Authorization": f"Bearer {_key(engine)}"}),
        "api error": client.get("/api/v1/surveys"),
        "survey page": client.get("/s/unknown-token"),
    }
    assert responses["csv export"].headers["content-type"].startswith("text/csv")
    assert responses["pdf report"].content.startswith(b"%PDF")
    assert responses["api"].status_code == 200 and responses["api error"].status_code == 401
    for name, response in responses.items():
        assert response.headers.get("cache-control") == "no-store", name
        assert "content-security-policy" in response.headers, name  # SecurityHeaders still does its work
    static = client.get("/static/style.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_hsts_only_when_served_over_https(engine, tmp_path, client):
    assert "strict-transport-security" not in client.get("/login").headers
    with TestClient(create_app(engine, _settings(tmp_path, base_url="https://feedback.example.nl")),
                    base_url="https://testserver") as secure:
        for path in ("/login", "/api/v1/surveys", "/static/style.css"):
            assert secure.get(path).headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


# --- 5. access logs without survey tokens ---------------------------------------------------------


def _token_paths(app, token: str) -> list[str]:
    """Every served path with a survey token in it, as the routes declare them (new token routes join)."""
    paths = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            continue
        if "{token}" in route.path or "{resume}" in route.path:
            paths.append(route.path.replace("{token}", token).replace("{resume}", token)
                         .replace("{survey_key}", "nps-2026"))
    return paths


def _access_record(path: str) -> logging.LogRecord:
    """A record as uvicorn.protocols.http.h11_impl logs each answered request."""
    return logging.LogRecord("uvicorn.access", logging.INFO, "h11_impl.py", 477, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:50312", "GET", path, "1.1", 200), None)


def test_the_access_log_filter_redacts_every_token_route(app):
    token = secrets.token_urlsafe(32)
    paths = _token_paths(app, token)
    assert {"/s/" + token, "/s/" + token + "/opt-out", "/a/nps-2026/r/" + token + "/thanks"} <= set(paths)
    formatter = AccessFormatter(ACCESS_FORMAT, use_colors=False)
    for path in paths:
        for logged in (path, path + "?lang=en&saved=1"):
            record = _access_record(logged)
            assert RedactTokens().filter(record) is True
            line = formatter.format(record)
            assert token not in line, line
            assert TOKEN_MARK in line and '"GET ' in line and line.endswith(" 200 OK")
    assert "/a/nps-2026/r/[token]/thanks" in formatter.format(
        _filtered(_access_record(f"/a/nps-2026/r/{token}/thanks")))
    assert redact_path("/metrics/surveys/nps-2026?month=2026-02") == "/metrics/surveys/nps-2026?month=2026-02"


def _filtered(record: logging.LogRecord) -> logging.LogRecord:
    RedactTokens().filter(record)
    return record


def test_our_own_log_lines_and_tracebacks_lose_the_token():
    token = secrets.token_urlsafe(32)
    try:
        raise LookupError(f"no invitation for https://feedback.example.nl/s/{token}")
    except LookupError:
        record = logging.LogRecord("servicepulse.http.errors", logging.ERROR, "errors.py", 95,
                                   "unhandled error on %s %s", ("POST", f"/s/{token}/opt-out"), sys.exc_info())
    text = logging.Formatter().format(_filtered(record))
    assert "unhandled error on POST /s/[token]/opt-out" in text and "LookupError" in text
    assert token not in text


def test_a_served_access_log_has_no_survey_tokens(engine, tmp_path, caplog, restore_logging):
    settings = _settings(tmp_path)
    app = create_app(engine, settings)
    token, resume = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    config = _serve_config(app, settings)  # sets up logging as `serve` does
    access = logging.getLogger("uvicorn.access")
    access.addHandler(caplog.handler)  # uvicorn's access logger does not propagate to the root logger
    try:
        with serving(config) as url, httpx.Client(base_url=url, timeout=10) as browser:
            for path in (f"/s/{token}?lang=en", f"/s/{token}/opt-out", f"/a/nps-2026/r/{resume}/thanks", "/login"):
                browser.get(path)
            browser.post(f"/s/{token}", data={"action": "save"})
    finally:
        access.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert len(lines) == 5, lines
    assert not [line for line in lines if token in line or resume in line]
    assert any('"GET /s/[token]?lang=en HTTP/1.1" 404' in line for line in lines), lines
    assert any("/a/nps-2026/r/[token]/thanks" in line for line in lines)
    assert any(re.search(r'"GET /login HTTP/1.1" 200', line) for line in lines)
