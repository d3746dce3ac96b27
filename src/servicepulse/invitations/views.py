"""The administrator's page of anonymous survey links (/admin/anonymous-links): open or close each survey's
link, set its rate limit, and print its QR code (SVG or PNG) for a counter, a letter or a poster.

Who sees it: administrators only (the links let anyone answer). It holds no personal data: a link is a survey
key and two numbers; the answers it brings in are anonymous responses like any other."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from servicepulse.errors import NotFound
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.invitations.anonymous import anonymous_links, enable_anonymous_link
from servicepulse.kernels.charts.qr import qr_png, qr_svg
from servicepulse.org import record_audit

router = APIRouter(prefix="/admin/anonymous-links", dependencies=[Depends(require_role("admin"))])
LIMITS = {"per_address_limit": (1, 1000), "window_minutes": (1, 7 * 24 * 60)}


def link_url(request: Request, key: str) -> str:
    return request.app.state.settings.base_url.rstrip("/") + f"/a/{key}"


@router.get("")
def links_page(request: Request, session: DbSession, done: str = ""):
    catalogue, lang = request.app.state.catalogue, request_language(request)
    rows = [{"survey": survey, "link": link, "url": link_url(request, survey.key),
             "qr": qr_svg(link_url(request, survey.key), catalogue.translate(
                 "invitations.anonymous.qr_title", lang, survey=survey.name)) if link and link.enabled else None}
            for survey, link in anonymous_links(session)]
    return render(request, "invitations/anonymous_links.html", {"rows": rows, "done": done[:40], "limits": LIMITS})


@router.post("/{key}")
def update_link(request: Request, session: DbSession, me: CurrentUser, key: params.PathKey,
                action: Annotated[str, Form()] = "save", per_address_limit: Annotated[str, Form()] = "5",
                window_minutes: Annotated[str, Form()] = "60"):
    values = {}
    for name, raw in (("per_address_limit", per_address_limit), ("window_minutes", window_minutes)):
        low, high = LIMITS[name]
        try:
            values[name] = params.parse_int(raw, name, low=low, high=high) or (5 if name == "per_address_limit" else 60)
        except params.ParamError as exc:
            return params.refused_page(request, exc)
    enabled = action != "close"
    enable_anonymous_link(session, key, enabled=enabled, **values)
    record_audit(session, f"user:{me.id}", "anonymous_link.open" if enabled else "anonymous_link.close",
                 {"survey": key, **values})
    return RedirectResponse(f"/admin/anonymous-links?done={'opened' if enabled else 'closed'}", status_code=303)


def _check_open(session, key: str) -> None:
    link = dict((s.key, link) for s, link in anonymous_links(session)).get(key)
    if link is None or not link.enabled:  # no QR code for a closed link: it would lead to "closed"
        raise NotFound(f"survey {key!r} has no open anonymous link")


@router.get("/{key}.svg")
def qr_code_svg(request: Request, session: DbSession, key: params.PathKey):
    _check_open(session, key)
    svg = qr_svg(link_url(request, key), link_url(request, key), scale=10)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="qr-{key}.svg"'})


@router.get("/{key}.png")
def qr_code_png(request: Request, session: DbSession, key: params.PathKey):
    _check_open(session, key)
    return Response(qr_png(link_url(request, key)), media_type="image/png",
                    headers={"Content-Disposition": f'attachment; filename="qr-{key}.png"'})
