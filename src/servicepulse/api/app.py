"""The /api/v1 application: mounted inside the web app, with its own OpenAPI schema and error format.

It is a separate FastAPI app so that its errors are problem+json while the
pages' errors are HTML, and so that /api/v1/openapi.json describes only the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.engine import Engine

from servicepulse import __version__
from servicepulse.api.auth import require_api_key
from servicepulse.api.docs import router as docs_router
from servicepulse.api.key_cache import ApiKeyCache
from servicepulse.http.problems import PROBLEM_MEDIA_TYPE, FieldError, Problem, install_problem_handlers
from servicepulse.api.routers import API_ROUTERS, PUBLIC_API_ROUTERS
from servicepulse.web.registry import load_router

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def build_api_router() -> APIRouter:
    """All registered API routers; key-protected ones get `require_api_key` on every route."""
    api_router = APIRouter()
    problem_401 = {401: {"description": "Missing or wrong API key"}}
    for module, attribute in API_ROUTERS:
        api_router.include_router(load_router(module, attribute, "servicepulse/api/routers.py API_ROUTERS"),
                                  dependencies=[Depends(require_api_key)], responses=problem_401)
    for module, attribute in PUBLIC_API_ROUTERS:
        api_router.include_router(load_router(module, attribute, "servicepulse/api/routers.py PUBLIC_API_ROUTERS"))
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
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
                    if status == "422":
                        response["description"] = "Validation failed: `errors` names each rejected field"
            responses.setdefault("500", {"description": "Unexpected error (logged on the server)",
                                         "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema


def create_api_app(engine: Engine) -> FastAPI:
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
    api.include_router(build_api_router())
    api.include_router(docs_router)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    install_problem_handlers(api)
    return api
