"""Every route the assembled app serves is guarded: the cases come from the app's routes, not from a hand list.

A page without a session must send the visitor to /login (or refuse with 401/403);
an /api/v1 route without a key must answer 401 problem+json. The only exceptions
are named here: the login and health pages, static files, the survey pages
(/s/..., /a/...), the API's schema and docs page, and the registry's public API routers.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from servicepulse import registry
from servicepulse.api import docs as api_docs
from servicepulse.app import create_app
from servicepulse.settings import Settings
from servicepulse.web import health as web_health

PUBLIC_PAGES = ("/login", "/health")
PUBLIC_PAGE_PREFIXES = ("/s/", "/a/", "/w/")  # survey pages (/w/: the widget): a token of their own instead of a session
PUBLIC_API = ("/openapi.json", "/docs")
PROBLEM = "application/problem+json"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _endpoints(routers) -> set:
    # iter_route_contexts: a router's routes include routers it includes itself (FastAPI keeps them nested).
    return {route.endpoint for router in routers for route in iter_route_contexts(router.routes)}


def _api_app(app):
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")


def _routes(app) -> list[tuple[str, str, object]]:
    """(method, path, endpoint) of every route the app serves itself (mounted apps aside)."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            continue
        found += [(method, route.path, route.endpoint) for method in sorted(route.methods or ())]
    assert found
    return found


def _refused(response) -> bool:
    """Sent to /login, or refused outright."""
    location = response.headers.get("location", "")
    return response.status_code in (401, 403) or (response.is_redirect and urlsplit(location).path == "/login")


def _is_public_page(path: str) -> bool:
    return path in PUBLIC_PAGES or path.startswith(PUBLIC_PAGE_PREFIXES)


@pytest.fixture
def app(engine, tmp_path):
    return create_app(engine, Settings(secret_key="routes-secret-" + "x" * 30, data_dir=tmp_path))


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def test_every_route_comes_from_the_registry(app):
    pages = _endpoints(registry.PAGE_ROUTERS + registry.PUBLIC_ROUTERS + (web_health.router,))
    api = _endpoints(registry.API_ROUTERS + registry.PUBLIC_API_ROUTERS + (api_docs.router,))
    strays = [f"{m} {p}" for m, p, e in _routes(app) if e not in pages]
    strays += [f"{m} /api/v1{p}" for m, p, e in _routes(_api_app(app)) if e not in api and p != "/openapi.json"]
    assert not strays, f"served but not listed in servicepulse/registry.py: {strays}"
    mounts = sorted(r.path for r in app.routes if isinstance(r, Mount))
    assert mounts == ["/api/v1", "/static"]


def test_public_pages_stay_under_their_public_paths():
    stray = [r.path for router in registry.PUBLIC_ROUTERS for r in iter_route_contexts(router.routes)
             if not r.path.startswith(PUBLIC_PAGE_PREFIXES)]
    assert not stray, f"public (session-less) pages outside {PUBLIC_PAGE_PREFIXES}: {stray}"


def test_every_page_sends_a_visitor_without_a_session_to_login(app, client):
    # A valid CSRF token of an anonymous session, so that what refuses a post is the login check, not CSRF.
    token = _CSRF.search(client.get("/login").text).group(1)
    checked, problems = 0, []
    for method, path, _ in _routes(app):
        if _is_public_page(path):
            continue
        data = {"csrf_token": token} if method not in ("GET", "HEAD") else None
        response = client.request(method, _fill(path), data=data, follow_redirects=False)
        checked += 1
        if _refused(response):
            continue
        location = response.headers.get("location", "")
        # An old URL may redirect anyone to its new place, provided that place turns the visitor away.
        if response.is_redirect and method in ("GET", "HEAD") and location.startswith("/") \
                and _refused(client.get(location, follow_redirects=False)):
            continue
        problems.append(f"{method} {path}: {response.status_code} {location}".strip())
    assert checked > 20
    assert not problems, "pages that answer a visitor without a session:\n" + "\n".join(problems)


def test_every_api_route_needs_a_key(app, client):
    public = _endpoints(registry.PUBLIC_API_ROUTERS)
    schema = client.get("/api/v1/openapi.json").json()
    checked, problems = 0, []
    for method, path, endpoint in _routes(_api_app(app)):
        if path in PUBLIC_API or endpoint in public:
            continue
        response = client.request(method, "/api/v1" + _fill(path))
        checked += 1
        if response.status_code != 401 or not response.headers.get("content-type", "").startswith(PROBLEM):
            problems.append(f"{method} /api/v1{path}: {response.status_code} {response.headers.get('content-type')}")
        documented = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)  # the schema leaves out convertors (:path)
        operation = schema["paths"].get(documented, {}).get(method.lower())
        if method != "HEAD" and (operation is None or {"apiKey": []} not in operation.get("security", [])):
            problems.append(f"{method} /api/v1{path}: the OpenAPI schema declares no API key")
    assert checked > 20
    assert not problems, "API routes that answer without a key:\n" + "\n".join(problems)


def test_the_public_api_routes_answer_without_a_key(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/openapi.json" in docs.text
