"""One unit of work per request, committed before the response is sent."""

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.http.deps import DbSession
from servicepulse.models import OrgUnit

from .conftest import csrf_from


def _routes(app):
    router = APIRouter()

    @router.post("/test/units")
    def add_units(session: DbSession, fail_at_commit: bool = False):
        session.add(OrgUnit(key="sales", name="Sales", kind="department"))
        if fail_at_commit:  # the same key again: the unique constraint fails only when the commit flushes
            session.add(OrgUnit(key="sales", name="Sales again", kind="department"))
        return {"saved": True}

    @router.get("/test/sneaky-write")
    def sneaky_write(session: DbSession):
        session.add(OrgUnit(key="from-get", name="x", kind="team"))
        session.flush()
        return {"ok": True}

    app.include_router(router)


def _units(engine) -> int:
    with UnitOfWork(engine, readonly=True) as s:
        return s.scalar(select(func.count()).select_from(OrgUnit))


def test_a_failing_commit_is_never_reported_as_success(app, engine):
    _routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        token = csrf_from(client.get("/login").text)
        failed = client.post("/test/units?fail_at_commit=true", data={"csrf_token": token})
        assert failed.status_code == 500 and "saved" not in failed.text
        assert _units(engine) == 0
        ok = client.post("/test/units", data={"csrf_token": token})
        assert ok.status_code == 200 and ok.json() == {"saved": True}
    assert _units(engine) == 1


def test_get_requests_are_read_only(app, client, engine):
    _routes(app)
    assert client.get("/test/sneaky-write").status_code == 200
    assert _units(engine) == 0  # rolled back: GET never changes data
