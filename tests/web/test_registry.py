"""The router registries: every form post is CSRF-checked, every API route needs a key, broken entries are named."""

import re

import pytest

from servicepulse.errors import ConfigurationError
from servicepulse.web import app as app_module
from servicepulse.web.app import create_app

UNSAFE = {"post", "put", "patch", "delete"}


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_form_post_is_csrf_checked(app, client):
    # FastAPI can describe the page routes even though their schema is not published.
    paths = app.openapi()["paths"]
    posts = [(m, p) for p, item in paths.items() for m in item if m in UNSAFE]
    assert ("post", "/login") in posts and ("post", "/logout") in posts
    for method, path in posts:
        response = client.request(method.upper(), _fill(path), data={"x": "1"}, follow_redirects=False)
        assert response.status_code == 403, f"{method.upper()} {path} answered {response.status_code} without a CSRF token"


def test_every_api_route_needs_a_key_unless_registered_as_public(client):
    from fastapi import FastAPI

    from servicepulse.api.routers import PUBLIC_API_ROUTERS
    from servicepulse.web.registry import load_router

    public_app = FastAPI()
    for module, attribute in PUBLIC_API_ROUTERS:
        public_app.include_router(load_router(module, attribute, "test"))
    public = set(public_app.openapi().get("paths", {}))

    schema = client.get("/api/v1/openapi.json").json()
    assert schema["paths"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path in public:
                continue
            assert {"apiKey": []} in operation.get("security", []), f"{method.upper()} {path} declares no API key"
            response = client.request(method.upper(), "/api/v1" + _fill(path))
            assert response.status_code == 401, f"{method.upper()} /api/v1{path} answered {response.status_code}"


def test_a_broken_registry_entry_stops_the_app_with_its_name(engine, settings, monkeypatch):
    monkeypatch.setattr(app_module, "PAGE_ROUTERS", [("servicepulse.no_such_domain.views", "router")])
    with pytest.raises(ConfigurationError, match="PAGE_ROUTERS: cannot import servicepulse.no_such_domain.views"):
        create_app(engine, settings)
    monkeypatch.setattr(app_module, "PAGE_ROUTERS", [("servicepulse.web.home", "journey_overview")])
    with pytest.raises(ConfigurationError, match="is not a fastapi.APIRouter"):
        create_app(engine, settings)
