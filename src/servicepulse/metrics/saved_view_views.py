"""The saved views pages: "My views" (own views, views others share), and the forms that save, rename,
delete and share one. Every logged-in user keeps their own views; administrators and analysts may share theirs.
A refused form shows its message in the reader's language on the list page (400), nothing written."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from servicepulse.errors import NotFound
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.metrics import saved_views
from servicepulse.metrics.views import VIEWERS, _t, active_filters_of, filter_choices_for
from servicepulse.models import Journey, Moment, Survey, User

router = APIRouter()
PATH = "/metrics/saved-views"
# who may open each page (as the pages' own guards say): a view of a page the user cannot open is not listed
PAGE_ROLES = {"overview": VIEWERS, "journey": VIEWERS, "moment": VIEWERS, "drivers": VIEWERS,
              "predicted": ("admin", "analyst"), "survey": ("admin", "analyst", "teamlead", "agent")}


def _list(request: Request, session: DbSession, user: User, *, message: str | None = None,
          error: str | None = None, status_code: int = 200):
    own, shared = saved_views.list_views(session, user.id)
    choices = filter_choices_for(session)

    language = request_language(request)

    def visible(items):
        return [{"view": v, "filters": active_filters_of(request, v.path, v.query, choices),
                 "subject": _subject(session, v, language)}
                for v in items if user.role in PAGE_ROLES[v.page]]

    return render(request, "metrics/saved_views.html", {
        "own": visible(own), "shared": visible(shared), "message": message, "error": error,
        "may_share": user.role in saved_views.SHARERS,
    }, status_code=status_code)


def _subject(session: DbSession, view: saved_views.ViewItem, language: str) -> str | None:
    """What the view's page is about: the journey, moment or survey by name (None when gone or not one)."""
    key = view.path.rsplit("/", 1)[-1]
    if view.page == "journey":
        journey = session.get(Journey, int(key))
        return journey.name(language) if journey else None
    if view.page == "moment":
        moment = session.get(Moment, int(key))
        return moment.name(language) if moment else None
    if view.page == "survey":
        return session.scalar(select(Survey.name).where(Survey.key == key))
    return None


@router.get(PATH)
def list_page(request: Request, session: DbSession, user: CurrentUser):
    t = _t(request)
    saved = request.query_params.get("saved")
    message = None
    if saved:
        own, _ = saved_views.list_views(session, user.id)
        name = next((v.name for v in own if str(v.id) == saved), None)
        message = t("insights.saved.saved", name=name) if name else None
    return _list(request, session, user, message=message)


def _refused(request: Request, session: DbSession, user: User, exc: saved_views.SavedViewError):
    return _list(request, session, user, error=_t(request)(f"insights.saved.error.{exc.key}", **exc.values),
                 status_code=400)


@router.post(PATH)
def save(request: Request, session: DbSession, user: CurrentUser, name: Annotated[str, Form()] = "",
         path: Annotated[str, Form()] = "", query: Annotated[str, Form()] = ""):
    try:
        view = saved_views.create_view(session, user.id, name, path, query)
    except saved_views.SavedViewError as exc:
        return _refused(request, session, user, exc)
    return RedirectResponse(f"{PATH}?saved={view.id}", status_code=303)


@router.post(PATH + "/{view_id}/rename")
def rename(request: Request, session: DbSession, user: CurrentUser, view_id: params.PathId,
           name: Annotated[str, Form()] = ""):
    try:
        saved_views.rename_view(session, user.id, view_id, name)
    except NotFound:
        return error_page(request, 404)
    except saved_views.SavedViewError as exc:
        return _refused(request, session, user, exc)
    return RedirectResponse(PATH, status_code=303)


@router.post(PATH + "/{view_id}/delete")
def delete(request: Request, session: DbSession, user: CurrentUser, view_id: params.PathId):
    try:
        saved_views.delete_view(session, user.id, view_id)
    except NotFound:
        return error_page(request, 404)
    return RedirectResponse(PATH, status_code=303)


@router.post(PATH + "/{view_id}/share", dependencies=[Depends(require_role(*saved_views.SHARERS))])
def share(request: Request, session: DbSession, user: CurrentUser, view_id: params.PathId,
          shared: Annotated[str, Form()] = "1"):
    try:
        saved_views.share_view(session, user, view_id, shared == "1")
    except NotFound:
        return error_page(request, 404)
    return RedirectResponse(PATH, status_code=303)
