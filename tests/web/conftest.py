"""Fixtures for page tests: the app on the `engine` fixture's database, users, logging in.

Browser fixtures (real headless Chromium) come from tests/web/browser.py:
`live_url` (the app served by uvicorn on a free loopback port) and `page`.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.org import service
from servicepulse.settings import Settings

from .browser import chromium_page, live_server

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """Real argon2id, with the cheapest parameters: the default costs ~0.5 s per hash on this machine."""
    from argon2 import PasswordHasher

    from servicepulse.org import passwords
    from servicepulse.web import login as login_routes

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    login_routes._dummy_hash.cache_clear()
    yield
    login_routes._dummy_hash.cache_clear()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, organisation_name="Testbedrijf")


@pytest.fixture
def app(engine, settings):
    return create_app(engine, settings)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def make_user(engine):
    def make(email: str = "ann@example.org", role: str = "analyst", language: str = "nl", name: str = "Ann"):
        with UnitOfWork(engine) as session:
            user = service.create_user(session, email, name, PASSWORD, role, language=language)
            return user.id
    return make


def login(client: TestClient, email: str, password: str = PASSWORD, next_path: str = "/"):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "next": next_path,
                                       "csrf_token": token}, follow_redirects=False)


@pytest.fixture
def live_url(engine, settings):
    with live_server(engine, settings) as url:
        yield url


@pytest.fixture
def page():
    with chromium_page() as p:
        yield p
