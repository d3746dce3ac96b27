"""Logging in and out, and the language switch: the dashboard's own pages for the session.

The router is a page router of servicepulse/registry.py, so its forms are
CSRF-checked like every other page's (the login form carries the token of the
anonymous session; a successful login starts a fresh session and token).
Failed logins are slowed down per address and per account (servicepulse.http.throttle).
Logging out ends the user's sessions server-side (the session epoch, servicepulse.http.auth),
so a copied cookie stops working too.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from servicepulse.http.auth import OptionalUser, start_session
from servicepulse.http.csrf import new_csrf_token
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import LANGUAGES
from servicepulse.http.templating import base_context, render
from servicepulse.models import utcnow
from servicepulse.org.logins import record_failed_login, record_login, user_for_login
from servicepulse.org.passwords import hash_password, verify_password
from servicepulse.org.service import end_sessions

router = APIRouter()


def safe_next(value: str | None) -> str:
    """Only same-site paths: no scheme, no host, no protocol-relative //evil.example."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Unknown e-mail addresses still cost one argon2 verification, so the
    # response time does not reveal which accounts exist.
    return hash_password("no such user: constant-time placeholder")


def _wait_text(t, seconds: float) -> str:
    if seconds >= 60:
        return t("web.login.throttled_minutes", minutes=math.ceil(seconds / 60))
    return t("web.login.throttled_seconds", seconds=math.ceil(seconds))


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: str = "/"):
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": None, "email": ""})


@router.post("/login")
def login(request: Request, session: DbSession, email: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    t = base_context(request)["t"]
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    email_key = email.strip().lower()
    # Check and count in one step (the account row locked, the in-memory counters under one lock),
    # so parallel attempts cannot all pass the check before a failure is counted.
    user = user_for_login(session, email_key) if email_key else None
    wait = throttle.account_wait(user.failed_logins, user.last_failed_login_at) if user is not None else 0.0
    if wait == 0:
        wait = throttle.begin(address, unknown_account=None if user is not None else email_key)
    context = {"next": safe_next(next), "email": email}
    if wait > 0:
        return render(request, "login.html", {**context, "error": _wait_text(t, wait)}, status_code=429,
                      headers={"Retry-After": str(math.ceil(wait))})

    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        if user is not None:
            record_failed_login(session, user, utcnow())
        return render(request, "login.html", {**context, "error": t("web.login.wrong")}, status_code=400)

    throttle.succeeded(address)
    record_login(session, user)
    request.session.clear()  # a fresh session at the change of privilege
    start_session(request, user)
    new_csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, user: OptionalUser):  # POST: a writable unit of work
    if user is not None:
        end_sessions(user)  # every copy of this cookie (and the user's other sessions) ends now
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    return RedirectResponse("/login", status_code=303)


@router.post("/language")
def switch_language(request: Request, user: OptionalUser, lang: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/"):
    if lang in LANGUAGES:
        request.session["lang"] = lang
        if user is not None:
            user.language = lang  # the preference follows the user to the next login
    return RedirectResponse(safe_next(next), status_code=303)
