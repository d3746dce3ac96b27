"""/api/v1: API-key authentication, problem+json errors (RFC 9457), the OpenAPI schema and docs page."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from starlette.routing import Mount

from servicepulse.api.auth import require_api_key
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.org import service

PROBLEM = "application/problem+json"


def _key(engine, name="crm") -> str:
    with UnitOfWork(engine) as s:
        return service.create_api_key(s, name, scopes=service.INSTALLATION_SCOPES).key


def _api_app(app):
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1")


class Reading(BaseModel):
    score: int = Field(ge=0, le=10)
    comment: str


def _add_test_routes(app):
    router = APIRouter(dependencies=[Depends(require_api_key)])

    @router.post("/test/readings")
    def post_reading(reading: Reading, limit: int = 5):
        return {"ok": True}

    @router.get("/test/refuse")
    def refuse():
        raise ValidationFailed("2 problems", [("rows[3].email", "not an e-mail address"), ("team", "unknown team")])

    @router.get("/test/missing")
    def missing():
        raise NotFound("journey 'x' does not exist")

    @router.get("/test/crash")
    def crash():
        raise RuntimeError("secret internal detail")

    _api_app(app).include_router(router)


def _is_problem(response, status):
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status and body["detail"]
    return body


def test_api_key_missing_wrong_and_right(client, engine):
    body = _is_problem(client.get("/api/v1/health"), 401)
    assert "Bearer" in body["detail"]
    assert client.get("/api/v1/health").headers["www-authenticate"].startswith("Bearer")
    _is_problem(client.get("/api/v1/health", headers={"Authorization": "Bearer sp_not-a-real-key"}), 401)
    _is_problem(client.get("/api/v1/health", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)

    key = _key(engine)
    ok = client.get("/api/v1/health", headers={"Authorization": f"Bearer {key}"})
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "api_key": "crm"}


def test_validation_errors_name_each_field(app, client, engine):
    _add_test_routes(app)
    auth = {"Authorization": f"Bearer {_key(engine)}"}
    body = _is_problem(client.post("/api/v1/test/readings?limit=many", json={"score": 11}, headers=auth), 422)
    assert body["type"] != "about:blank"
    found = {(e["location"], e["field"]) for e in body["errors"]}
    assert found == {("query", "limit"), ("body", "score"), ("body", "comment")}
    assert all(e["message"] for e in body["errors"])

    body = _is_problem(client.get("/api/v1/test/refuse", headers=auth), 422)
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("rows[3].email", "not an e-mail address"), ("team", "unknown team")]

    body = _is_problem(client.get("/api/v1/test/missing", headers=auth), 404)
    assert body["detail"] == "journey 'x' does not exist" and body["instance"] == "/api/v1/test/missing"
    _is_problem(client.get("/api/v1/no/such/route", headers=auth), 404)


def test_unexpected_errors_are_a_generic_500_without_traceback(app, engine):
    _add_test_routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/test/crash", headers={"Authorization": f"Bearer {_key(engine)}"})
    body = _is_problem(response, 500)
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert body["title"] == "Internal Server Error"


def test_openapi_schema_describes_problems_and_bearer_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/health" in schema["paths"]
    operation = schema["paths"]["/health"]["get"]
    assert PROBLEM in operation["responses"]["401"]["content"]
    assert {"apiKey": []} in operation["security"]
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"].lower() == "bearer"
    assert set(schema["components"]["schemas"]["Problem"]["required"]) >= {"title", "status", "detail"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_docs_page_without_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "GET /api/v1/health" in page.text
    assert "<script" not in page.text and "cdn" not in page.text.lower()


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_no_cdn_docs_at_the_top_level(client, path):
    assert client.get(path).status_code == 404


def test_an_id_beyond_what_the_database_stores_is_a_422_not_a_500(app, engine):
    """Found by Schemathesis: an id past BIGINT in a path crashed the lookup on both databases."""
    from sqlalchemy import select

    from servicepulse.models import Customer

    router = APIRouter(dependencies=[Depends(require_api_key)])

    @router.get("/test/customers/{customer_id}")
    def get_customer(customer_id: int):
        with UnitOfWork(engine, readonly=True) as s:
            found = s.scalar(select(Customer.id).where(Customer.id == customer_id))
        return {"found": found is not None}

    _api_app(app).include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {_key(engine)}"}
        assert client.get("/api/v1/test/customers/5", headers=headers).json() == {"found": False}
        response = client.get("/api/v1/test/customers/9223372036854775808", headers=headers)
    body = _is_problem(response, 422)
    assert "out of the range" in body["detail"]
