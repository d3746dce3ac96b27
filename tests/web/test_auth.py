"""Login, logout, slow-down after failures, CSRF, roles, language."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends
from sqlalchemy import select, update

from servicepulse.db.session import UnitOfWork
from servicepulse.http.auth import require_role
from servicepulse.http.throttle import LoginThrottle, Policy
from servicepulse.models import User, utcnow

from .conftest import PASSWORD, csrf_from, login


def _user(engine, email):
    """The user's row as a plain namespace (the session is closed afterwards)."""
    from types import SimpleNamespace

    with UnitOfWork(engine, readonly=True) as s:
        row = s.execute(select(User.failed_logins, User.last_failed_login_at, User.language)
                        .where(User.email == email)).one()
    return SimpleNamespace(**row._asdict())


def test_login_logout(client, make_user):
    make_user("ann@example.org", name="Ann de Vries")
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"
    response = login(client, "ANN@example.org ")  # case and spaces do not matter
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Ann de Vries" in home.text

    token = csrf_from(home.text)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_message(client, make_user, engine):
    make_user("ann@example.org")
    wrong = login(client, "ann@example.org", "not the password")
    unknown = login(client, "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    message = "Dit e-mailadres en wachtwoord horen niet bij elkaar."
    assert message in wrong.text and message in unknown.text
    assert _user(engine, "ann@example.org").failed_logins == 1
    assert client.get("/", follow_redirects=False).status_code == 303  # still not logged in


def test_repeated_failures_slow_down_the_account(client, make_user, engine):
    make_user("ann@example.org")
    for _ in range(5):  # the free attempts
        assert login(client, "ann@example.org", "guess").status_code == 400
    user = _user(engine, "ann@example.org")
    assert user.failed_logins == 5 and user.last_failed_login_at is not None

    # Locked for a while: even the right password is refused, with a wait time.
    locked = login(client, "ann@example.org", PASSWORD)
    assert locked.status_code == 429 and "Te veel mislukte pogingen" in locked.text
    assert 0 < int(locked.headers["retry-after"]) <= 30

    # Once the wait has passed, the right password works and the counter resets.
    with UnitOfWork(engine) as s:
        s.execute(update(User).values(last_failed_login_at=utcnow() - timedelta(minutes=1)))
    assert login(client, "ann@example.org", PASSWORD).status_code == 303
    assert _user(engine, "ann@example.org").failed_logins == 0


def test_unknown_accounts_slow_down_like_known_ones(client):
    for _ in range(5):
        assert login(client, "ghost@example.org", "guess").status_code == 400
    assert login(client, "ghost@example.org", "guess").status_code == 429


def test_one_address_trying_many_accounts_is_slowed_down(app, client, make_user):
    make_user("ann@example.org")
    app.state.login_throttle = LoginThrottle(address_policy=Policy(free=3))
    for i in range(3):
        assert login(client, f"user{i}@example.org", "guess").status_code == 400
    assert login(client, "ann@example.org", PASSWORD).status_code == 429


def test_post_without_or_with_a_wrong_csrf_token_is_refused(client, make_user):
    make_user("ann@example.org")
    client.get("/login")
    missing = client.post("/login", data={"email": "ann@example.org", "password": PASSWORD}, follow_redirects=False)
    assert missing.status_code == 403 and "Het formulier is verlopen" in missing.text
    forged = client.post("/login", data={"email": "ann@example.org", "password": PASSWORD, "csrf_token": "x" * 43},
                         follow_redirects=False)
    assert forged.status_code == 403

    assert login(client, "ann@example.org").status_code == 303
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in


def _admin_only_page(app):
    router = APIRouter()

    @router.get("/test/admin-only", dependencies=[Depends(require_role("admin"))])
    def admin_only():
        return {"ok": True}

    app.include_router(router)


def test_role_refusal_page_in_the_users_language(app, client, make_user):
    _admin_only_page(app)
    make_user("agent@example.org", role="agent", language="en")
    make_user("boss@example.org", role="admin")

    anonymous = client.get("/test/admin-only", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=%2Ftest%2Fadmin-only"

    login(client, "agent@example.org")
    refused = client.get("/test/admin-only")
    assert refused.status_code == 403
    assert "No access" in refused.text and '<html lang="en">' in refused.text

    client.post("/logout", data={"csrf_token": csrf_from(refused.text)})
    assert login(client, "boss@example.org", next_path="/test/admin-only").headers["location"] == "/test/admin-only"
    assert client.get("/test/admin-only").json() == {"ok": True}


def test_language_from_browser_switch_and_user_preference(client, make_user, engine):
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert '<html lang="en">' in english.text and "Log in" in english.text
    assert '<html lang="nl">' in client.get("/login", headers={"Accept-Language": "de-DE"}).text

    make_user("ann@example.org", language="nl")
    login(client, "ann@example.org")
    home = client.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="nl">' in home.text  # the user's preference beats the browser's
    switched = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_from(home.text)},
                           follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/"
    assert "Customer journeys" in client.get("/").text
    assert _user(engine, "ann@example.org").language == "en"


def test_next_must_stay_on_this_site(client, make_user):
    make_user("ann@example.org")
    response = login(client, "ann@example.org", next_path="//evil.example/steal")
    assert response.headers["location"] == "/"


def test_changing_the_password_ends_existing_sessions(client, make_user, engine):
    from servicepulse.org.passwords import hash_password

    make_user("ann@example.org")
    login(client, "ann@example.org")
    assert client.get("/", follow_redirects=False).status_code == 200
    with UnitOfWork(engine) as s:
        s.execute(update(User).values(password_hash=hash_password("a brand new password")))
    assert client.get("/", follow_redirects=False).status_code == 303


def test_security_headers(client):
    response = client.get("/login")
    assert "script-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
