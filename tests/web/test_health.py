"""GET /health: 200 when the database answers, 503 with a reason when it does not."""

from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.db.engine import make_engine


def test_health_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database(settings):
    # Port 9 on loopback: nothing listens there, the connection is refused at once.
    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/nothing")
    app = create_app(down, settings, check_schema=False)
    with TestClient(app) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "unreachable"
    assert "127.0.0.1" in body["reason"] or "refused" in body["reason"].lower()
    assert "Traceback" not in response.text


def test_app_refuses_an_unmigrated_database(tmp_path, settings):
    import pytest

    from servicepulse.errors import SchemaMismatch

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with pytest.raises(SchemaMismatch, match="servicepulse db upgrade"):
        create_app(empty, settings)
