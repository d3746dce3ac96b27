"""The current user, role checks, team scope and API-key scopes (logging in and out is the web edge's:
servicepulse/web/login.py; verifying keys is the API edge's: servicepulse/api/auth.py).

Pages declare who may see them::

    @router.get("/reports")
    def reports(user: CurrentUser): ...                                # any logged-in user
    @router.get("/admin", dependencies=[Depends(require_role("admin"))])
    def admin(...): ...
    def cases(actor: CurrentActor): ...     # any logged-in user, with the teams they may see (org.Actor)

API routes declare the scope they need (tests/test_role_route_matrix.py refuses a route without one)::

    @router.get("/metrics", dependencies=[needs("read:metrics")])
    def metrics(...): ...
    def case(actor: ApiActor): ...          # the key's user as an org.Actor (all teams for a key without a user)

Not logged in -> redirect to /login?next=<page>. Logged in without the role
-> a 403 page in the user's language. Roles are explicit: ``admin`` passes a
check only when it is listed. A key without the scope -> 403 problem+json.

The session cookie (Starlette SessionMiddleware: signed with the app secret,
HttpOnly, SameSite=Lax, Secure when the base URL is https) holds the user id,
the user's session epoch and a fingerprint of the password hash, the login
time, the time of the last request, the language and the CSRF token. A session
ends server-side when:

* the user's ``session_epoch`` moved on (logout, deactivation, password change
  raise it, so a copied cookie dies with them: logout ends the user's sessions
  on every device);
* the user was deactivated or the password changed;
* no request came for ``settings.session_idle_minutes`` (default 30);
* ``settings.session_absolute_hours`` (default 12) passed since the login.

The time comes from ``app.state.clock`` (tests set it), else the wall clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from servicepulse.http.deps import DbSession
from servicepulse.models import User
from servicepulse.models.org import ROLES
from servicepulse.org import SCOPES, Actor

SESSION_USER_KEYS = ("user_id", "ep", "pw", "iat", "seen")
_SEEN_RESOLUTION = 30  # seconds: the last-request time is rewritten at most this often


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


def now_of(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


def start_session(request: Request, user: User) -> None:
    """A fresh session for `user` (the caller clears the old one first)."""
    stamp = int(now_of(request).timestamp())
    request.session.update({"user_id": user.id, "ep": user.session_epoch or 0, "pw": password_fingerprint(user),
                            "iat": stamp, "seen": stamp, "lang": user.language})


def end_session(request: Request) -> None:
    """Forget the user in this cookie; the language and CSRF token stay."""
    for key in SESSION_USER_KEYS:
        request.session.pop(key, None)


def _expired(request: Request) -> bool:
    settings = request.app.state.settings
    now = int(now_of(request).timestamp())
    issued, seen = request.session.get("iat"), request.session.get("seen")
    if not isinstance(issued, int) or not isinstance(seen, int):
        return True
    if now - issued > settings.session_absolute_hours * 3600 or now - seen > settings.session_idle_minutes * 60:
        return True
    if now - seen >= _SEEN_RESOLUTION:
        request.session["seen"] = now
    return False


def current_user(request: Request, session: DbSession) -> User | None:
    user_id = request.session.get("user_id")
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if (user is None or not user.active or request.session.get("ep") != (user.session_epoch or 0)
            or request.session.get("pw") != password_fingerprint(user) or _expired(request)):
        end_session(request)
        return None
    request.state.user = UserInfo(user.id, user.email, user.name, user.role, user.language)
    return user


def require_user(request: Request, user: Annotated[User | None, Depends(current_user)]) -> User:
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else "/")
    return user


require_user.requirement = ROLES  # any logged-in user


def require_role(*roles: str):
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_role needs roles from {ROLES}, got {roles}")

    def check(user: Annotated[User, Depends(require_user)]) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    check.__name__ = f"require_role_{'_'.join(roles)}"
    check.requirement = tuple(roles)  # read by tests/test_role_route_matrix.py
    return check


def current_actor(user: Annotated[User, Depends(require_user)]) -> Actor:
    return Actor.of(user)


current_actor.requirement = ROLES  # what the role x route test reads: every logged-in role

CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(current_user)]
CurrentActor = Annotated[Actor, Depends(current_actor)]


# --- API keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApiCaller:
    """A verified API key (servicepulse/api/key_cache.py builds it): its effective scopes (those it was
    given that its user's role allows) and the actor it works for."""

    id: int
    name: str
    created_by_id: int | None
    scopes: frozenset[str]
    actor: Actor


def api_caller(request: Request) -> ApiCaller:
    caller = getattr(request.state, "api_key", None)
    if caller is None:  # the API assembly puts the key check before every route's own dependencies
        raise HTTPException(401, "an API key is required: send `Authorization: Bearer <key>`")
    return caller


ANY_KEY = "*"  # a route any valid key may call (only /api/v1/health)


def require_scope(scope: str):
    if scope != ANY_KEY and scope not in SCOPES:
        raise ValueError(f"unknown API scope {scope!r}; choose from {sorted(SCOPES)}")

    def check(caller: Annotated[ApiCaller, Depends(api_caller)]) -> ApiCaller:
        if scope != ANY_KEY and scope not in caller.scopes:
            raise HTTPException(403, f"this API key lacks the scope {scope} (or its user's role does not allow it)")
        return caller

    check.__name__ = f"require_scope_{scope.replace(':', '_').replace('*', 'any')}"
    check.scope = scope  # read by tests/test_role_route_matrix.py
    return check


def needs(scope: str):
    """The dependency an API route declares: ``@router.get(..., dependencies=[needs("read:metrics")])``."""
    return Depends(require_scope(scope))


def api_actor(caller: Annotated[ApiCaller, Depends(api_caller)]) -> Actor:
    return caller.actor


ApiActor = Annotated[Actor, Depends(api_actor)]
