"""The application: dashboard pages, public survey pages, /health, static files, and the /api/v1 app inside.

    from servicepulse.app import create_app
    app = create_app()                 # engine and settings from the environment
    app = create_app(engine, settings) # tests

Everything served comes from servicepulse/registry.py. The database schema is
checked when the app is created, so a server never starts against a database
that is not migrated (SchemaMismatch says what to run).

The API is a FastAPI app of its own, mounted at /api/v1, so that its errors are
problem+json while the pages' errors are HTML, and so that
/api/v1/openapi.json describes only the API.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from servicepulse import __version__, registry
from servicepulse.analytics_store import open_store
from servicepulse.api import docs as api_docs
from servicepulse.api.auth import require_api_key
from servicepulse.api.key_cache import ApiKeyCache
from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.errors import ConfigurationError
from servicepulse.http.auth import ANY_KEY
from servicepulse.http.csrf import csrf_protect
from servicepulse.http.errors import install_error_pages
from servicepulse.http.i18n import load_catalogue
from servicepulse.http.limits import RequestSizeLimit
from servicepulse.http.problems import (
    PROBLEM_MEDIA_TYPE,
    FieldError,
    Problem,
    install_problem_handlers,
)
from servicepulse.http.templating import make_templates
from servicepulse.http.throttle import LoginThrottle
from servicepulse.metrics import benchmarks
from servicepulse.settings import Settings, get_settings
from servicepulse.web import health as web_health

STATIC_DIR = Path(__file__).resolve().parent / "http" / "static"
STATIC_PREFIX = "/static"
SESSION_COOKIE = "servicepulse_session"

# No scripts at all; inline styles allowed because server-rendered SVG charts carry style attributes.
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]

# The survey widget (public/widget.py) is the one page other sites may frame: frame-ancestors is its own origin plus
# SERVICEPULSE_WIDGET_ORIGINS, and its own script (/static/widget.js, which reports the page height to the host page)
# may run. Without listed origins X-Frame-Options keeps older browsers to the same origin too.
WIDGET_PREFIX = "/w/"


def widget_headers(origins: str) -> list[tuple[bytes, bytes]]:
    ancestors = " ".join(["'self'", *[o for o in origins.split(",") if o]])
    policy = (f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              f"frame-ancestors {ancestors}; form-action 'self'; base-uri 'none'")
    headers = [(b"content-security-policy", policy.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"same-origin")]
    return headers if origins else [*headers, (b"x-frame-options", b"SAMEORIGIN")]


_NO_STORE = (b"cache-control", b"no-store")
# Browsers then refuse plain http for this host (and its subdomains) for a year; sent only when the
# site is reached over https, because over http the header is ignored and would only mislead.
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class SecurityHeaders:
    """Headers on every response: the policy above; `Cache-Control: no-store` on everything but /static (pages,
    exports, reports and API answers may carry personal data, so no browser or proxy keeps a copy; a route
    that sets its own Cache-Control keeps it); HSTS when the site is served over https."""

    def __init__(self, app: ASGIApp, hsts: bool = False, widget_origins: str = ""):
        self.app = app
        self.hsts = hsts
        self.widget = widget_headers(widget_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = list(self.widget if scope["path"].startswith(WIDGET_PREFIX) else _SECURITY_HEADERS)
        if not scope["path"].startswith(STATIC_PREFIX + "/"):
            extra.append(_NO_STORE)
        if self.hsts:
            extra.append(_HSTS)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(engine: Engine | None = None, settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url())
    if settings.max_request_bytes < 1:
        raise ConfigurationError(f"SERVICEPULSE_MAX_REQUEST_BYTES must be a positive number of bytes, "
                                 f"got {settings.max_request_bytes}")
    if check_schema:
        migrate.check_schema(engine)

    app = FastAPI(title="servicepulse", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.settings = settings
    # Raw-row analytics (drill-downs, comment search, process statistics) read from the analytics store when
    # one is configured (http/deps.py hands it to each request's unit of work); the main database otherwise.
    app.state.analytics_store = open_store(settings.analytics_url, settings.data_dir) if settings.analytics_url else None
    app.state.catalogue = load_catalogue()
    app.state.benchmarks = benchmarks.load(settings.benchmarks_file)  # beside the figures: metrics/_benchmark.html
    app.state.templates = make_templates()
    app.state.nav = list(registry.NAV)
    app.state.case_panels = list(registry.CASE_PANELS)
    app.state.department_sections = list(registry.DEPARTMENT_SECTIONS)
    registry.install_job_handlers()  # the in-process worker runs jobs of every kind
    app.state.login_throttle = LoginThrottle()
    app.state.clock = None  # the wall clock; tests set a callable to move session time-outs

    # First, so that API requests skip matching against every page route.
    app.mount("/api/v1", create_api_app(engine))
    app.include_router(web_health.router)
    for router in registry.PAGE_ROUTERS:
        app.include_router(router, dependencies=[Depends(csrf_protect)])
    for router in registry.PUBLIC_ROUTERS:  # respondents have no session; these check their own form token
        app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)

    # Inside the session, so that its 413 page is in the visitor's chosen language.
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        # The cookie's own lifetime; the server also ends sessions on idle and absolute time-outs and
        # on logout, deactivation and password change (servicepulse.http.auth).
        max_age=settings.session_absolute_hours * 60 * 60,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders, hsts=settings.base_url.startswith("https://"),
                       widget_origins=settings.widget_origins)
    return app


def create_api_app(engine: Engine) -> FastAPI:
    """The /api/v1 app: the registry's API routers, the docs page, problem+json errors."""
    api = FastAPI(
        title="servicepulse API",
        version=__version__,
        description="JSON API of servicepulse. Authenticate with `Authorization: Bearer <key>`; "
                    "errors are RFC 9457 problem details (`application/problem+json`).",
        openapi_url="/openapi.json",
        docs_url=None,  # FastAPI's Swagger/ReDoc pages load from a CDN; /docs is our own page instead
        redoc_url=None,
    )
    api.state.engine = engine
    api.state.key_cache = ApiKeyCache(engine)
    api.include_router(_api_router())
    api.include_router(api_docs.router)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    install_problem_handlers(api)
    return api


def _api_router() -> APIRouter:
    """All registered API routers; key-protected ones get `require_api_key` on every route."""
    api_router = APIRouter()
    problem_401 = {401: {"description": "Missing or wrong API key"}}
    for router in registry.API_ROUTERS:
        api_router.include_router(router, dependencies=[Depends(require_api_key)], responses=problem_401)
    for router in registry.PUBLIC_API_ROUTERS:
        api_router.include_router(router)
    return api_router


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with error responses described as the problem+json we actually send."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["Problem"].pop("$defs", None)
    components["FieldError"] = FieldError.model_json_schema()
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            # Answers every route can give besides its own: a body that is not JSON, one over the size
            # limit (servicepulse.http.limits), and an id in the path that names nothing.
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "The body could not be parsed"})
                responses.setdefault("413", {"description": "The body is larger than the configured limit"})
            if "{" in path:
                responses.setdefault("404", {"description": "Nothing with that id or key"})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
                    if status == "422":
                        response["description"] = "Validation failed: `errors` names each rejected field"
            responses.setdefault("500", {"description": "Unexpected error (logged on the server)",
                                         "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}})
    _document_scopes(app, schema)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


def _document_scopes(app: FastAPI, schema: dict[str, Any]) -> None:
    """Each operation names the API-key scope its route declares (`needs(...)`, servicepulse.http.auth)."""
    for route in iter_route_contexts(app.routes):  # included routers stay nested: walk them all
        if not hasattr(route, "dependant"):
            continue
        scopes = {dep.call.scope for dep in _dependants(route.dependant) if hasattr(dep.call, "scope")}
        if not scopes:
            continue
        scope = scopes.pop()
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(path, {}).get(method.lower())
            if operation is None:
                continue
            operation["x-required-scope"] = scope
            needed = "any valid key" if scope == ANY_KEY else f"the API-key scope `{scope}`"
            operation["description"] = (operation.get("description", "") + f"\n\nNeeds {needed}.").strip()


def _dependants(dependant):
    for dep in dependant.dependencies:
        yield dep
        yield from _dependants(dep)
