"""The login and anonymous-link limits hold under parallel requests, on SQLite and PostgreSQL.

A real server (uvicorn in a thread, tests/web/browser.py) and real HTTP clients in threads, all
released at once by a barrier: TestClient runs requests one after another and would prove nothing.
Before the limits were made atomic, PostgreSQL let 19 of 30 wrong passwords be checked (limit 5)
and accepted 15 of 20 anonymous answers (limit 5).
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.http.throttle import ACCOUNT_POLICY, LoginThrottle, Policy
from servicepulse.invitations import enable_anonymous_link
from servicepulse.models import Response, User

from ..invitations.support import seed_world
from .browser import live_server
from .conftest import csrf_from, login

PARALLEL_LOGINS = 30
PARALLEL_ANSWERS = 20
ANONYMOUS_LIMIT = 5


def _in_parallel(count: int, prepare, send) -> Counter:
    """Each thread prepares its request, waits for all others, then sends; the status codes, counted."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run():
        try:
            with httpx.Client(timeout=60, follow_redirects=False) as http:
                prepared = prepare(http)
                barrier.wait(timeout=60)
                status = send(http, prepared).status_code
            with lock:
                statuses.append(status)
        except BaseException as exc:  # reported below, so a failed thread cannot pass unnoticed
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return Counter(statuses)


def test_parallel_wrong_passwords_are_checked_only_as_often_as_the_account_allows(engine, make_user, settings):
    make_user("ann@example.org")
    with live_server(engine, settings) as base:
        def prepare(http):
            return csrf_from(http.get(base + "/login").text)

        def send(http, token):
            return http.post(base + "/login", data={"email": "ann@example.org", "password": "wrong guess",
                                                    "next": "/", "csrf_token": token})

        statuses = _in_parallel(PARALLEL_LOGINS, prepare, send)
    # 400: the password was checked and wrong; 429: refused without checking it.
    assert statuses == Counter({400: ACCOUNT_POLICY.free, 429: PARALLEL_LOGINS - ACCOUNT_POLICY.free})
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(User.failed_logins).where(User.email == "ann@example.org")) == ACCOUNT_POLICY.free


def test_parallel_guesses_on_an_unknown_account_are_limited_alike(engine, settings):
    """Unknown addresses must answer like known ones, also under load, or the difference tells which exist."""
    with live_server(engine, settings) as base:
        def prepare(http):
            return csrf_from(http.get(base + "/login").text)

        def send(http, token):
            return http.post(base + "/login", data={"email": "ghost@example.org", "password": "guess", "next": "/",
                                                    "csrf_token": token})

        statuses = _in_parallel(PARALLEL_LOGINS, prepare, send)
    assert statuses == Counter({400: ACCOUNT_POLICY.free, 429: PARALLEL_LOGINS - ACCOUNT_POLICY.free})


def test_parallel_anonymous_answers_from_one_address_stop_at_the_limit(engine, settings):
    with UnitOfWork(engine) as s:
        seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=ANONYMOUS_LIMIT)
    with live_server(engine, settings) as base:
        def prepare(http):
            return csrf_from(http.get(base + "/a/after_contact").text)

        def send(http, token):
            return http.post(base + "/a/after_contact", data={"csrf_token": token, "q_ces": "6", "action": "submit"})

        statuses = _in_parallel(PARALLEL_ANSWERS, prepare, send)
    assert statuses == Counter({303: ANONYMOUS_LIMIT, 429: PARALLEL_ANSWERS - ANONYMOUS_LIMIT})
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Response)) == ANONYMOUS_LIMIT


def test_a_successful_login_does_not_use_up_the_address_allowance(app, client, make_user):
    make_user("ann@example.org")
    app.state.login_throttle = LoginThrottle(address_policy=Policy(free=2))
    for _ in range(4):  # each attempt is counted when it starts and taken back when it succeeds
        assert login(client, "ann@example.org").status_code == 303
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    assert login(client, "ann@example.org", "wrong one").status_code == 400
    assert login(client, "ann@example.org", "wrong two").status_code == 400
    assert login(client, "ann@example.org").status_code == 429  # the two failures count, the successes did not
