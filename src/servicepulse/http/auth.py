"""The current user and role checks (logging in and out is the web edge's: servicepulse/web/login.py).

Pages declare who may see them::

    @router.get("/reports")
    def reports(user: CurrentUser): ...                                # any logged-in user
    @router.get("/admin", dependencies=[Depends(require_role("admin"))])
    def admin(...): ...

Not logged in -> redirect to /login?next=<page>. Logged in without the role
-> a 403 page in the user's language. Roles are explicit: ``admin`` passes a
check only when it is listed.

The session cookie (Starlette SessionMiddleware: signed with the app secret,
HttpOnly, SameSite=Lax, Secure when the base URL is https) holds the user id,
a fingerprint of the password hash (changing the password ends other
sessions), the language and the CSRF token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from servicepulse.http.deps import DbSession
from servicepulse.models import User
from servicepulse.models.org import ROLES


@dataclass(frozen=True)
class UserInfo:
    """What pages and error pages show about the logged-in user; safe to use after the session closed."""

    id: int
    email: str
    name: str
    role: str
    language: str


class LoginRequired(Exception):
    def __init__(self, next_path: str = "/"):
        self.next_path = next_path


class Forbidden(Exception):
    """The user is logged in but their role may not see this page."""


def password_fingerprint(user: User) -> str:
    """Kept in the session at login; a changed password no longer matches, which ends other sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def current_user(request: Request, session: DbSession) -> User | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or request.session.get("pw") != password_fingerprint(user):
        request.session.pop("user_id", None)
        return None
    request.state.user = UserInfo(user.id, user.email, user.name, user.role, user.language)
    return user


def require_user(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else "/")
    return user


def require_role(*roles: str):
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_role needs roles from {ROLES}, got {roles}")

    def check(user: Annotated[User, Depends(require_user)]) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    check.__name__ = f"require_role_{'_'.join(roles)}"
    return check


CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(current_user)]
