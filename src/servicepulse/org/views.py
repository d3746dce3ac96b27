"""Administrator pages: users (deactivate, activate, reset the password, unlock after failed logins)
and API keys (their user, scopes and last use). The same actions exist on the command line
(`servicepulse user ...`, `servicepulse apikey list`). Every change is recorded in the audit log
(`record_audit`, actor "user:<id>")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from servicepulse.errors import NotFound
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.params import MAX_ID
from servicepulse.http.templating import render
from servicepulse.http.throttle import ACCOUNT_POLICY
from servicepulse.models import OrgUnit, User
from servicepulse.org import record_audit, service
from servicepulse.org.access import ROLE_SCOPES, effective_scopes, parse_scopes

router = APIRouter(prefix="/admin", dependencies=[Depends(require_role("admin"))])


def _user(session, user_id: int) -> User:
    user = session.get(User, user_id) if 1 <= user_id <= MAX_ID else None  # beyond the id column: none
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    return user


def _users_page(request: Request, session, me: User, *, notice: dict | None = None,
                new_password: str | None = None, status_code: int = 200):
    teams = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    rows = [{"user": u, "teams": sorted((teams.get(m.team_id, "?"), m.is_lead) for m in u.memberships),
             "locked": (u.failed_logins or 0) >= ACCOUNT_POLICY.free, "me": u.id == me.id} for u in service.list_users(session)]
    return render(request, "org/users.html", {"rows": rows, "notice": notice, "new_password": new_password},
                  status_code=status_code)


DONE = ("deactivated", "activated", "unlocked")


@router.get("/users")
def users_page(request: Request, session: DbSession, me: CurrentUser, done: str | None = None,
               user: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    notice = None
    if done in DONE and user is not None and (target := session.get(User, user)) is not None:
        notice = {"key": f"org.users.done.{done}", "email": target.email}
    return _users_page(request, session, me, notice=notice)


def _done(key: str, user: User) -> RedirectResponse:
    return RedirectResponse(f"/admin/users?done={key}&user={user.id}", status_code=303)


@router.post("/users/{user_id:int}/deactivate")
def deactivate(request: Request, user_id: int, session: DbSession, me: CurrentUser):
    user = _user(session, user_id)
    if user.id == me.id:  # an administrator cannot lock themselves out
        return _users_page(request, session, me, notice={"key": "org.users.not_yourself", "email": me.email},
                           status_code=409)
    service.set_active(session, user, False)
    record_audit(session, f"user:{me.id}", "user.deactivate", {"user_id": user.id})
    return _done("deactivated", user)


@router.post("/users/{user_id:int}/activate")
def activate(user_id: int, session: DbSession, me: CurrentUser):
    user = service.set_active(session, _user(session, user_id), True)
    record_audit(session, f"user:{me.id}", "user.activate", {"user_id": user.id})
    return _done("activated", user)


@router.post("/users/{user_id:int}/unlock")
def unlock(user_id: int, session: DbSession, me: CurrentUser):
    user = service.unlock(session, _user(session, user_id))
    record_audit(session, f"user:{me.id}", "user.unlock", {"user_id": user.id})
    return _done("unlocked", user)


@router.post("/users/{user_id:int}/reset-password")
def reset_password(request: Request, user_id: int, session: DbSession, me: CurrentUser):
    """A generated password, shown once on the page that answers (not in a URL); the user's sessions end."""
    user = _user(session, user_id)
    password = service.generated_password()
    service.set_password(session, user, password)
    record_audit(session, f"user:{me.id}", "user.password_reset", {"user_id": user.id})
    return _users_page(request, session, me, notice={"key": "org.users.done.password_reset", "email": user.email},
                       new_password=password)


@router.get("/api-keys")
def api_keys_page(request: Request, session: DbSession):
    users = {u.id: u for u in session.scalars(select(User))}
    rows = []
    for key in service.list_api_keys(session):
        user = users.get(key.created_by_id) if key.created_by_id else None
        granted = parse_scopes(key.scopes)
        usable = effective_scopes(granted, user.role if user else None)
        rows.append({"key": key, "user": user, "granted": sorted(granted), "unusable": sorted(granted - usable)})
    return render(request, "org/api_keys.html", {"rows": rows, "role_scopes": ROLE_SCOPES})

