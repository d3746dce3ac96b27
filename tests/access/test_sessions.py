"""Sessions end server-side: logout, deactivation and a password change kill every copy of the
cookie; idle and absolute time-outs follow the app's clock (app.state.clock)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import User
from servicepulse.org import service as org_service

from .conftest import csrf_from, login

COOKIE = "servicepulse_session"


def _logged_in(client: TestClient, who: str = "agent_a") -> str:
    client.cookies.clear()
    assert login(client, f"{who}@example.org").status_code == 303
    return client.cookies[COOKIE]


def _works(app, cookie: str) -> bool:
    """A fresh client presenting a copied cookie: is the home page shown (not the login page)?"""
    with TestClient(app, base_url="http://testserver") as other:
        other.cookies.set(COOKIE, cookie)
        return other.get("/", follow_redirects=False).status_code == 200


def _user(session, who: str) -> User:
    return session.scalar(select(User).where(User.email == f"{who}@example.org"))


def test_logout_kills_a_copied_cookie(app, client, world):
    copied = _logged_in(client)
    assert _works(app, copied)
    token = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert not _works(app, copied)
    # logging in again gives a working session
    assert _works(app, _logged_in(client))


def test_deactivation_and_a_password_change_end_sessions(engine, app, client, world):
    copied = _logged_in(client)
    with UnitOfWork(engine) as s:
        org_service.set_password(s, _user(s, "agent_a"), "a brand new password")
    assert not _works(app, copied)

    other = _logged_in(client, "agent_b")
    with UnitOfWork(engine) as s:
        org_service.set_active(s, _user(s, "agent_b"), False)
    assert not _works(app, other)
    with UnitOfWork(engine) as s:  # reactivated: the old cookie stays dead, a new login works
        org_service.set_active(s, _user(s, "agent_b"), True)
    assert not _works(app, other)
    assert _works(app, _logged_in(client, "agent_b"))


def test_idle_time_out(app, client, world, clock):
    cookie = _logged_in(client)
    clock.advance(minutes=29)
    assert client.get("/", follow_redirects=False).status_code == 200  # activity keeps it alive
    clock.advance(minutes=29)
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)
    gone = client.get("/", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
    assert not _works(app, cookie)


def test_absolute_time_out(app, client, world, clock):
    _logged_in(client)
    served = 0
    for _ in range(12 * 3 + 1):  # busy all day: a request every 20 minutes
        clock.advance(minutes=20)
        reply = client.get("/", follow_redirects=False)
        if reply.status_code != 200:
            break
        served += 1
    assert served == 12 * 3  # alive for exactly 12 hours of activity ...
    assert reply.status_code == 303  # ... then ended despite the activity


def test_time_outs_come_from_the_settings(engine, world, settings):
    from servicepulse.app import create_app

    from .conftest import Clock

    app = create_app(engine, settings.model_copy(update={"session_idle_minutes": 5}))
    app.state.clock = clock = Clock()
    with TestClient(app, base_url="http://testserver") as client:
        assert login(client, "agent_a@example.org").status_code == 303
        clock.advance(minutes=6)
        assert client.get("/", follow_redirects=False).status_code == 303
