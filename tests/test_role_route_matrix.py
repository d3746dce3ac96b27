"""Every web and API route, every role and every API-key scope: the expected outcome comes from the
requirement the route declares, read from its dependencies, so a new route cannot be forgotten.

* Pages declare the roles that may see them with ``require_role(...)`` (or any logged-in user with
  ``CurrentUser`` / ``CurrentActor``); the dependency carries ``.requirement``. A role outside it gets
  403; a role inside it never gets 403 or the login page (ids are filled with one that does not
  exist, so an allowed visitor gets the page, a 404 or a validation error, and nothing changes).
* API routes declare one scope with ``needs("...")`` (``.scope`` on the dependency). A key with
  exactly one scope is refused (403) everywhere else; a key of a user with every scope their role
  allows is refused exactly where the route's scope is beyond that role.

A route with no declared requirement fails the test. The only exceptions are named below: the
public pages (tests/test_routes_registry.py checks those for the anonymous visitor), the session's
own logout and language switch, and the old /insights addresses that redirect to a checked page.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from servicepulse import registry
from servicepulse.http.auth import CurrentUser, needs, require_role
from servicepulse.metrics import views as metrics_views
from servicepulse.models.org import ROLES
from servicepulse.org.access import ROLE_SCOPES, SCOPES

from .access.conftest import (  # noqa: F401
    WHO,
    app,
    client,
    csrf_from,
    engine,
    fast_password_hashing,
    login,
    make_key,
    seeded,
    settings,
    world,
)
from .test_routes_registry import PUBLIC_API, PUBLIC_PAGE_PREFIXES, PUBLIC_PAGES

NO_REQUIREMENT = {"/logout", "/language"}  # end or adjust the visitor's own session, logged in or not
REDIRECTS = {metrics_views.old_insights_url}  # to the /metrics page of the same name, which checks the role
ROLE_USER = {"admin": "admin", "analyst": "analyst", "teamlead": "lead_a", "agent": "agent_a"}
MISSING_ID = "999999"
assert set(ROLE_USER) == set(ROLES) and set(ROLE_USER.values()) <= set(WHO)


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", MISSING_ID, path)


def _calls(dependant):
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _routes(app):
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield method, route.path, route


def page_requirement(route) -> frozenset[str] | None:
    """The roles the route's dependencies allow (all of them must pass), or None when none is declared."""
    found = [frozenset(c.requirement) for c in _calls(route.dependant) if hasattr(c, "requirement")]
    return frozenset.intersection(*found) if found else None


def api_requirement(route) -> str | None:
    found = {c.scope for c in _calls(route.dependant) if hasattr(c, "scope")}
    assert len(found) <= 1, f"{route.path}: more than one scope declared: {found}"
    return found.pop() if found else None


def _api_app(app):
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")


def _page_routes(app):
    for method, path, route in _routes(app):
        if path in PUBLIC_PAGES or path.startswith(PUBLIC_PAGE_PREFIXES) or path in NO_REQUIREMENT \
                or route.endpoint in REDIRECTS:
            continue
        yield method, path, route


def test_every_page_declares_who_may_see_it_and_every_role_gets_that(app, world):
    undeclared, problems, checked = [], [], 0
    routes = list(_page_routes(app))
    for method, path, route in routes:
        if page_requirement(route) is None:
            undeclared.append(f"{method} {path}")
    assert not undeclared, "pages without a declared requirement (require_role / CurrentUser):\n" + "\n".join(undeclared)
    for role, who in ROLE_USER.items():
        with TestClient(app, base_url="http://testserver") as client:
            assert login(client, f"{who}@example.org").status_code == 303
            token = csrf_from(client.get("/").text)
            for method, path, route in routes:
                allowed = role in page_requirement(route)
                data = {"csrf_token": token} if method != "GET" else None
                reply = client.request(method, _fill(path), data=data, follow_redirects=False)
                checked += 1
                to_login = reply.is_redirect and reply.headers.get("location", "").startswith("/login")
                if allowed and (reply.status_code in (401, 403) or to_login):
                    problems.append(f"{role} {method} {path}: allowed, got {reply.status_code}")
                if not allowed and reply.status_code != 403:
                    problems.append(f"{role} {method} {path}: not allowed, got {reply.status_code}")
    assert checked > 100
    assert not problems, "\n".join(problems)


def _api_routes(app):
    api = _api_app(app)
    # routes without an API key (helpdesk connectors: their own signature); tests/test_routes_registry.py lists them
    public = {r.endpoint for router in registry.PUBLIC_API_ROUTERS for r in router.routes}
    for method, path, route in _routes(api):
        if path in PUBLIC_API or route.endpoint in public:
            continue
        yield method, path, route


def test_every_api_route_declares_a_scope(app):
    undeclared = [f"{m} /api/v1{p}" for m, p, r in _api_routes(app) if api_requirement(r) is None]
    assert not undeclared, "API routes without needs(\"<scope>\"):\n" + "\n".join(undeclared)
    declared = {api_requirement(r) for _, _, r in _api_routes(app)}
    assert declared - {"*"} == set(SCOPES), "every scope is used by a route, and only known scopes"


def _api_call(client, key, method, path):
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, "/api/v1" + _fill(path), headers={"Authorization": f"Bearer {key}"}, **body)


def test_every_api_route_and_scope(engine, app, client, world):
    routes = list(_api_routes(app))
    problems = []
    for scope in SCOPES:  # a key of an administrator (or analyst for what admins may not hold) with one scope
        holder = next(who for role, who in ROLE_USER.items() if scope in ROLE_SCOPES[role])
        key = make_key(engine, holder, [scope], name=f"only-{scope}")
        for method, path, route in routes:
            needed = api_requirement(route)
            if needed is None:
                continue  # test_every_api_route_declares_a_scope names it
            reply = _api_call(client, key, method, path)
            if needed in (scope, "*"):
                if reply.status_code in (401, 403):
                    problems.append(f"{scope}: {method} {path} needs it, got {reply.status_code} {reply.text[:120]}")
            elif reply.status_code != 403:
                problems.append(f"{scope}: {method} {path} needs {needed}, got {reply.status_code}")
    assert not problems, "\n".join(problems)


def test_every_api_route_and_role(engine, app, client, world):
    routes = list(_api_routes(app))
    problems = []
    for role, who in ROLE_USER.items():
        key = make_key(engine, who, sorted(ROLE_SCOPES[role]), name=f"all-of-{role}")
        for method, path, route in routes:
            needed = api_requirement(route)
            if needed is None:
                continue  # test_every_api_route_declares_a_scope names it
            allowed = needed == "*" or needed in ROLE_SCOPES[role]
            reply = _api_call(client, key, method, path)
            if allowed and reply.status_code in (401, 403):
                problems.append(f"{role}: {method} {path} ({needed}) allowed, got {reply.status_code} {reply.text[:120]}")
            if not allowed and reply.status_code != 403:
                problems.append(f"{role}: {method} {path} ({needed}) beyond the role, got {reply.status_code}")
    assert not problems, "\n".join(problems)


def test_a_route_without_a_declared_requirement_is_noticed():
    router = APIRouter()

    @router.get("/forgotten")
    def forgotten():
        return {}

    @router.get("/any")
    def any_user(user: CurrentUser):
        return {}

    @router.get("/admins", dependencies=[Depends(require_role("admin", "analyst"))])
    def admins(user: CurrentUser):
        return {}

    @router.get("/scoped", dependencies=[needs("read:cases")])
    def scoped():
        return {}

    by_path = {r.path: r for r in router.routes}
    assert page_requirement(by_path["/forgotten"]) is None and api_requirement(by_path["/forgotten"]) is None
    assert page_requirement(by_path["/any"]) == frozenset(ROLES)
    assert page_requirement(by_path["/admins"]) == {"admin", "analyst"}  # the stricter of the two
    assert api_requirement(by_path["/scoped"]) == "read:cases"


def test_the_openapi_schema_names_each_routes_scope(app, client):
    schema = client.get("/api/v1/openapi.json").json()
    problems = []
    for method, path, route in _api_routes(app):
        documented = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)
        operation = schema["paths"].get(documented, {}).get(method.lower(), {})
        if operation.get("x-required-scope") != api_requirement(route):
            problems.append(f"{method} {path}: documents {operation.get('x-required-scope')}")
    assert not problems, "\n".join(problems)
