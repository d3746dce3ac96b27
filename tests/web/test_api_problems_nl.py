"""API errors in the reader's language (issue 17, item 4): every problem+json the API answers (400, 401, 403, 404,
405, 409, 413, 422, 429, 500) has a Dutch title and detail when Accept-Language asks for Dutch, says so in
Content-Language, and keeps the code's English text in ``detail_en`` where the Dutch detail gives only its gist;
an English client gets the same answers as before."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ServicepulseError
from servicepulse.http.problems import install_problem_handlers
from servicepulse.org import service as org_service
from servicepulse.settings import Settings
from tests.conftest import engine_seeded_if
from tests.responses.conftest import WORLD_TEMPLATE, build_world, response

PROBLEM = "application/problem+json"
NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def engine(request, templates):  # noqa: F811
    with engine_seeded_if(request, templates, "world", WORLD_TEMPLATE, build_world) as e:
        yield e


@pytest.fixture
def world(engine, templates):
    return templates.ensure(WORLD_TEMPLATE, build_world)


def keys(engine) -> tuple[str, str]:
    """(a key that may do everything an installation key may, a key that may only read surveys)."""
    with UnitOfWork(engine) as s:
        full = org_service.create_api_key(s, "full", scopes=org_service.INSTALLATION_SCOPES).key
        narrow = org_service.create_api_key(s, "narrow", scopes=["read:surveys"]).key
    return full, narrow


@pytest.fixture
def client(engine, world, tmp_path):
    from servicepulse.app import create_app

    settings = Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path, max_request_bytes=20_000)
    with TestClient(create_app(engine, settings), base_url="http://testserver") as c:
        yield c


def dutch(reply, status: int, title: str, detail: str | None = None) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith(PROBLEM)
    assert reply.headers["content-language"] == "nl"
    body = reply.json()
    assert body["status"] == status and body["title"] == title, body
    if detail is not None:
        assert body["detail"] == detail, body
    return body


def test_every_status_in_dutch(engine, client):
    full, narrow = keys(engine)
    bearer = {"Authorization": f"Bearer {full}", **NL}

    dutch(client.get("/api/v1/responses/R-1", headers=NL), 401, "Niet aangemeld",
          "een API-sleutel is nodig: stuur `Authorization: Bearer <sleutel>`")
    dutch(client.get("/api/v1/responses/R-1", headers={"Authorization": "Bearer nonsense", **NL}), 401,
          "Niet aangemeld", "de API-sleutel is onbekend of ingetrokken")
    body = dutch(client.get("/api/v1/responses/R-1", headers={"Authorization": f"Bearer {narrow}", **NL}), 403,
                 "Geen toestemming")
    assert body["detail"].startswith("deze API-sleutel mist het recht read:responses")
    assert "lacks the scope read:responses" in body["detail_en"]
    dutch(client.get("/api/v1/responses/R-404", headers=bearer), 404, "Niet gevonden",
          "er is geen antwoord met external_id 'R-404'")
    dutch(client.get("/api/v1/no-such-thing", headers=bearer), 404, "Niet gevonden", "dit adres bestaat niet")
    dutch(client.delete("/api/v1/responses", headers=bearer), 405, "Methode niet toegestaan")

    assert client.post("/api/v1/responses", json=response("R-1"), headers=bearer).status_code == 201
    conflict = dutch(client.post("/api/v1/responses", json=response("R-1", answers={"ces": 1}), headers=bearer),
                     409, "Conflict")
    assert conflict["detail"].startswith("er is niets opgeslagen") and conflict["detail_en"].startswith("nothing was")
    assert conflict["errors"]  # the fields stay named

    too_large = client.post("/api/v1/responses", content=b"[" + b" " * 30_000 + b"]",
                            headers={**bearer, "Content-Type": "application/json"})
    dutch(too_large, 413, "Verzoek te groot", "het verzoek is groter dan de grens van 20000 bytes")

    invalid = dutch(client.post("/api/v1/responses", json=response("R-2", answers={"ces": "veel"}), headers=bearer),
                    422, "Invoer geweigerd")
    assert invalid["detail"] and invalid["errors"]


def test_english_clients_get_the_codes_own_words(engine, client):
    full, narrow = keys(engine)
    reply = client.get("/api/v1/responses/R-404", headers={"Authorization": f"Bearer {full}", **EN})
    assert reply.status_code == 404 and reply.json()["detail"] == "there is no response with external_id 'R-404'"
    assert reply.json()["title"] == "Not Found" and "detail_en" not in reply.json()
    assert "content-language" not in reply.headers
    scope = client.get("/api/v1/responses/R-1", headers={"Authorization": f"Bearer {narrow}"})  # no preference
    assert scope.status_code == 403 and scope.json()["title"] == "Forbidden"


def _bare_app() -> FastAPI:
    """An app with only the problem handlers, for the statuses no route of ours answers on purpose (a 429 from
    a rate limit in front of a route, a 400 from a service, a crash)."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/busy")
    def busy():
        raise HTTPException(429, "slow down", headers={"Retry-After": "30"})

    @app.get("/refused")
    def refused():
        raise ServicepulseError("this cannot be done now")

    @app.get("/crash")
    def crash():
        raise RuntimeError("boom")

    return app


def test_429_400_and_500_in_dutch():
    with TestClient(_bare_app(), raise_server_exceptions=False) as c:
        busy = dutch(c.get("/busy", headers=NL), 429, "Te veel verzoeken",
                     "Te veel verzoeken achter elkaar; probeer het zo opnieuw.")
        assert busy["detail_en"] == "slow down"
        refused = dutch(c.get("/refused", headers=NL), 400, "Verzoek niet te lezen")
        assert refused["detail_en"] == "this cannot be done now"
        crash = c.get("/crash", headers=NL)
        dutch(crash, 500, "Interne fout", "er ging onverwacht iets mis; het is vastgelegd")
        assert c.get("/busy", headers=EN).json() == {"type": "about:blank", "title": "Too Many Requests",
                                                     "status": 429, "detail": "slow down", "instance": "/busy"}
        assert c.get("/busy", headers=NL).headers["retry-after"] == "30"
