"""servicepulse/registry.py: every router listed is served with its guard, every menu entry answers."""

import re

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from servicepulse import registry
from servicepulse.api.auth import require_api_key
from servicepulse.http.csrf import csrf_protect

from .conftest import login

UNSAFE = {"post", "put", "patch", "delete"}


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _api_app(app):
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")


def _served(app) -> dict:
    """(endpoint, path) -> the served route (as included, with the include's dependencies), for every APIRoute."""
    return {(r.endpoint, r.path): r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)}


def _routes_of(router):
    """A router's routes, with those of the routers it includes itself (FastAPI keeps those nested)."""
    return list(iter_route_contexts(router.routes))


def _guards(route) -> set:
    return {d.call for d in route.dependant.dependencies}


def test_every_listed_router_is_served(app):
    pages, api = _served(app), _served(_api_app(app))
    for served, routers in ((pages, registry.PAGE_ROUTERS + registry.PUBLIC_ROUTERS),
                            (api, registry.API_ROUTERS + registry.PUBLIC_API_ROUTERS)):
        for router in routers:
            assert _routes_of(router), "a registered router has no routes"
            for route in _routes_of(router):
                assert (route.endpoint, route.path) in served, f"{route.path} ({route.endpoint.__module__}) is not served"


def test_every_page_router_gets_the_csrf_check_and_every_api_router_the_key(app):
    pages, api = _served(app), _served(_api_app(app))
    for router in registry.PAGE_ROUTERS:
        for route in _routes_of(router):
            assert csrf_protect in _guards(pages[route.endpoint, route.path]), f"{route.path} has no CSRF check"
    for router in registry.PUBLIC_ROUTERS:  # they check a form token of their own instead
        for route in _routes_of(router):
            assert csrf_protect not in _guards(pages[route.endpoint, route.path]), route.path
    for router in registry.API_ROUTERS:
        for route in _routes_of(router):
            assert require_api_key in _guards(api[route.endpoint, route.path]), f"{route.path} needs no API key"


def test_the_app_takes_menu_and_case_panels_from_the_registry(app):
    assert app.state.nav == list(registry.NAV)
    assert app.state.case_panels == list(registry.CASE_PANELS)


def test_every_nav_entry_answers(client, make_user):
    make_user("root@example.org", role="admin")
    assert login(client, "root@example.org").status_code == 303
    home = client.get("/").text
    for entry in registry.NAV:
        if entry.roles and "admin" not in entry.roles:
            continue  # another role's entry (a team lead's own page): checked as that role below
        assert f'href="{entry.path}"' in home, f"{entry.path} is not in the admin's menu"
        response = client.get(entry.path)
        assert response.status_code == 200, f"{entry.path} answered {response.status_code}"
    for entry in (e for e in registry.NAV if e.roles and "admin" not in e.roles):
        role = entry.roles[0]
        client.post("/logout", data={"csrf_token": client.cookies.get("csrf_token", "")})
        client.cookies.clear()
        make_user(f"{role}-{len(entry.path)}@example.org", role=role)
        assert login(client, f"{role}-{len(entry.path)}@example.org").status_code == 303
        assert f'href="{entry.path}"' in client.get("/").text, f"{entry.path} is not in the {role}'s menu"
        response = client.get(entry.path)
        assert response.status_code == 200, f"{entry.path} answered {response.status_code} to a {role}"


def test_every_form_post_is_csrf_checked(app, client):
    # FastAPI can describe the page routes even though their schema is not published.
    paths = app.openapi()["paths"]
    posts = [(m, p) for p, item in paths.items() for m in item if m in UNSAFE]
    assert ("post", "/login") in posts and ("post", "/logout") in posts
    for method, path in posts:
        response = client.request(method.upper(), _fill(path), data={"x": "1"}, follow_redirects=False)
        assert response.status_code == 403, f"{method.upper()} {path} answered {response.status_code} without a CSRF token"
