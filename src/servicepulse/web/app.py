"""The web application: pages, /health, static files, and the /api/v1 app mounted inside.

    from servicepulse.web.app import create_app
    app = create_app()                 # engine and settings from the environment
    app = create_app(engine, settings) # tests

The database schema is checked when the app is created, so a server never
starts against a database that is not migrated (SchemaMismatch says what to run).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from servicepulse import __version__
from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.settings import Settings, get_settings
from servicepulse.http import auth
from servicepulse.web import health
from servicepulse.http.csrf import csrf_protect
from servicepulse.http.errors import install_error_pages
from servicepulse.http.i18n import load_catalogue
from servicepulse.web.registry import load_router
from servicepulse.web.routers import NAV, PAGE_ROUTERS, PUBLIC_ROUTERS
from servicepulse.http.templating import make_templates
from servicepulse.http.throttle import LoginThrottle

STATIC_DIR = Path(__file__).resolve().parent.parent / "http" / "static"
SESSION_COOKIE = "servicepulse_session"
SESSION_MAX_AGE = 12 * 60 * 60  # a working day; then log in again

# No scripts at all; inline styles allowed because server-rendered SVG charts carry style attributes.
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in _SECURITY_HEADERS if h[0] not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(engine: Engine | None = None, settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    from servicepulse.api.app import create_api_app

    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url())
    if check_schema:
        migrate.check_schema(engine)

    app = FastAPI(title="servicepulse", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.settings = settings
    app.state.catalogue = load_catalogue()
    app.state.templates = make_templates()
    app.state.nav = list(NAV)
    app.state.login_throttle = LoginThrottle()

    # First, so that API requests skip matching against every page route.
    app.mount("/api/v1", create_api_app(engine))
    app.include_router(health.router)
    app.include_router(auth.router)
    for module, attribute in PAGE_ROUTERS:
        app.include_router(load_router(module, attribute, "servicepulse/web/routers.py PAGE_ROUTERS"),
                           dependencies=[Depends(csrf_protect)])
    for module, attribute in PUBLIC_ROUTERS:  # respondents have no session; these check their own form token
        app.include_router(load_router(module, attribute, "servicepulse/web/routers.py PUBLIC_ROUTERS"))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders)
    return app
