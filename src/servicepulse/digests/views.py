"""Pages: /digests, where every logged-in user manages their own digest subscriptions (and administrators
the teams'), and the one-click unsubscribe link of a digest mail, /s/<token>/unsubscribe, which works without
logging in (the token is signed; RFC 8058: a POST unsubscribes, a GET only asks).

``router`` holds the dashboard pages (session CSRF), ``public_router`` the unsubscribe page (its token is
its own proof, as a survey link's is).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from sqlalchemy.orm import Session

from servicepulse.digests import service
from servicepulse.digests.tokens import read_token
from servicepulse.errors import ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.templating import base_context, render
from servicepulse.models.digests import FREQUENCIES, DigestOptOut, DigestSubscription
from servicepulse.org import Actor, record_audit

router = APIRouter(prefix="/digests")
public_router = APIRouter()


def _now() -> datetime:
    return datetime.now(UTC)


def _page(request: Request, session: Session, user, *, errors: list[str] | None = None, status_code: int = 200,
          saved: bool = False):
    actor = Actor.of(user)
    return render(request, "digests/page.html", {
        "own": service.own_subscriptions(session, user.id),
        "team_digests": service.team_subscriptions_for(session, user.id),
        "scopes": service.scopes_for(session, actor),
        "all_teams": service.all_team_subscriptions(session) if user.role == "admin" else [],
        "teams": service.teams(session) if user.role == "admin" else {},
        "frequencies": FREQUENCIES, "errors": errors or [], "saved": saved,
    }, status_code=status_code)


def _problems(request: Request, exc: ValidationFailed) -> list[str]:
    t = base_context(request)["t"]
    return [t(key) if key.startswith("digests.") else key for _, key in exc.problems] or [str(exc)]


@router.get("")
def digests_page(request: Request, user: CurrentUser, session: DbSession):
    return _page(request, session, user, saved=request.query_params.get("saved") == "1")


def _scope(raw: str) -> int | None:
    """'organisation' -> None; a team id -> the id; anything else -> -1 (refused by the service)."""
    if raw == "organisation":
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else -1


@router.post("")
def subscribe(request: Request, user: CurrentUser, session: DbSession,
              frequency: Annotated[str, Form()] = "", scope: Annotated[str, Form()] = ""):
    try:
        service.subscribe(session, user, frequency, _scope(scope), _now())
    except ValidationFailed as exc:
        return _page(request, session, user, errors=_problems(request, exc), status_code=400)
    return RedirectResponse("/digests?saved=1", status_code=303)


@router.post("/{subscription_id}/delete")
def remove_own(request: Request, subscription_id: params.PathId, user: CurrentUser, session: DbSession):
    service.remove_own(session, user.id, subscription_id)  # NotFound: a 404 page
    return RedirectResponse("/digests?saved=1", status_code=303)


@router.post("/{subscription_id}/stop")
def stop_team_digest(request: Request, subscription_id: params.PathId, user: CurrentUser, session: DbSession):
    service.set_opted_out(session, user.id, subscription_id, True, _now())
    return RedirectResponse("/digests?saved=1", status_code=303)


@router.post("/{subscription_id}/resume")
def resume_team_digest(request: Request, subscription_id: params.PathId, user: CurrentUser, session: DbSession):
    service.set_opted_out(session, user.id, subscription_id, False, _now())
    return RedirectResponse("/digests?saved=1", status_code=303)


@router.post("/teams", dependencies=[Depends(require_role("admin"))])
def subscribe_team(request: Request, user: CurrentUser, session: DbSession,
                   frequency: Annotated[str, Form()] = "", team: Annotated[str, Form()] = ""):
    team_id = _scope(team)
    try:
        row = service.subscribe_team(session, team_id if team_id and team_id > 0 else None, frequency, user.id,
                                     _now())
    except ValidationFailed as exc:
        return _page(request, session, user, errors=_problems(request, exc), status_code=400)
    record_audit(session, f"user:{user.id}", "digest.team_subscribe",
                 {"subscription_id": row.id, "team_id": row.team_id, "frequency": row.frequency})
    return RedirectResponse("/digests?saved=1", status_code=303)


@router.post("/teams/{subscription_id}/delete", dependencies=[Depends(require_role("admin"))])
def remove_team(request: Request, subscription_id: params.PathId, user: CurrentUser, session: DbSession):
    row = service.remove_team(session, subscription_id)
    record_audit(session, f"user:{user.id}", "digest.team_unsubscribe",
                 {"subscription_id": subscription_id, "team_id": row.team_id, "frequency": row.frequency})
    return RedirectResponse("/digests?saved=1", status_code=303)


# --- the one-click unsubscribe link -------------------------------------------------------------------------

def _unsubscribe_page(request: Request, session: Session, token: str, state: str, status_code: int = 200):
    found = read_token(request.app.state.settings.resolved_secret_key(), token)
    sub = session.get(DigestSubscription, found[0]) if found else None
    return render(request, "digests/unsubscribe.html", {
        "state": state, "token": token, "subscription": sub,
        "team_name": service.teams(session).get(sub.team_id) if sub is not None else None,
    }, status_code=status_code)


@public_router.get("/s/{token}/unsubscribe")
def unsubscribe_page(request: Request, token: str, session: DbSession):
    """Asks first: a GET never unsubscribes (mail scanners and link previews open links)."""
    found = read_token(request.app.state.settings.resolved_secret_key(), token)
    if found is None:
        return _unsubscribe_page(request, session, token, "unknown", 404)
    sub = session.get(DigestSubscription, found[0])
    gone = sub is None or (sub.user_id is not None and sub.user_id != found[1]) or \
        (sub.user_id is None and session.get(DigestOptOut, found) is not None)
    return _unsubscribe_page(request, session, token, "already" if gone else "ask")


@public_router.post("/s/{token}/unsubscribe")
def unsubscribe_post(request: Request, token: str, session: DbSession,
                     one_click: Annotated[str, Form(alias="List-Unsubscribe")] = ""):
    """RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` (no cookie, no CSRF token: the signed
    token is the proof) and gets a short answer; a person's browser posts the page's form and gets the page."""
    found = read_token(request.app.state.settings.resolved_secret_key(), token)
    machine = one_click == "One-Click"
    if found is None:  # no proof, as a form without its token: refused
        if machine:
            return PlainTextResponse("unknown unsubscribe link", status_code=403)
        return _unsubscribe_page(request, session, token, "unknown", 403)
    state = service.unsubscribe(session, found[0], found[1], _now())
    if machine:
        return PlainTextResponse(state)
    return _unsubscribe_page(request, session, token, state)
