"""Admin pages of privacy: /privacy (retention, erasure, export) and /privacy/audit (the audit log, paged)."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession, WriteSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.models import User
from servicepulse.org import last_audit, list_audit
from servicepulse.privacy.retention import RETENTION_ACTION
from servicepulse.privacy.service import ERASE_ACTION, erase_customer, export_customer, record_export
from servicepulse.privacy.settings import RETENTION_KINDS, RetentionSettings

router = APIRouter(prefix="/privacy", dependencies=[Depends(require_role("admin"))])
AdminUser = Annotated[User, Depends(require_role("admin"))]
PER_PAGE = 50


def _overview(request: Request, session, *, error: str | None = None, ident: str = "", status_code: int = 200):
    settings = RetentionSettings()
    last_run = last_audit(session, RETENTION_ACTION)
    erased = request.query_params.get("erased")
    last_erasure = last_audit(session, ERASE_ACTION) if erased else None
    return render(request, "privacy/overview.html", {
        "kinds": RETENTION_KINDS, "days": settings.as_dict(), "last_run": last_run,
        "erasure": last_erasure if last_erasure is not None and str(last_erasure.id) == erased else None,
        "error": error, "ident": ident,
    }, status_code=status_code)


@router.get("")
def overview(request: Request, session: DbSession):
    return _overview(request, session)


def _problem(request: Request, exc: Exception, ident: str) -> str:
    t, lang = request.app.state.catalogue.translate, request_language(request)
    if isinstance(exc, NotFound):
        return t("privacy.not_found", lang, id=ident)
    return t("privacy.ambiguous", lang, id=ident)


@router.post("/erase")
def erase(request: Request, session: DbSession, user: AdminUser, ident: Annotated[str, Form(alias="id")] = "",
          confirm: Annotated[str, Form()] = ""):
    ident = ident.strip()
    try:
        params.clean_text(ident, "id", limit=200)
    except params.ParamError as exc:
        return _overview(request, session, error=exc.text(request), status_code=422)
    if confirm != ident or not ident:
        t = request.app.state.catalogue.translate
        return _overview(request, session, error=t("privacy.confirm_mismatch", request_language(request)),
                         ident=ident, status_code=422)
    try:
        done = erase_customer(session, ident, f"user:{user.id}")
    except (NotFound, ValidationFailed) as exc:
        return _overview(request, session, error=_problem(request, exc, ident), ident=ident,
                         status_code=404 if isinstance(exc, NotFound) else 422)
    return RedirectResponse(f"/privacy?erased={done.audit_id}", status_code=303)


# a GET that records the export in the audit log: read-write (the role check's session only reads)
@router.get("/export")
def export(request: Request, session: WriteSession, user: AdminUser, ident: Annotated[str, Query(alias="id")] = ""):
    ident = ident.strip()
    try:
        params.clean_text(ident, "id", limit=200)
    except params.ParamError as exc:
        return _overview(request, session, error=exc.text(request), status_code=422)
    try:
        data = export_customer(session, ident)
    except (NotFound, ValidationFailed) as exc:
        return _overview(request, session, error=_problem(request, exc, ident), ident=ident,
                         status_code=404 if isinstance(exc, NotFound) else 422)
    record_export(session, f"user:{user.id}", ident)
    name = "customer-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in ident)[:60] + ".json"
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/audit")
def audit(request: Request, session: DbSession, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1):
    listing = list_audit(session, page=page, per_page=PER_PAGE)
    catalogue, lang = request.app.state.catalogue, request_language(request)

    def action_label(action: str) -> str:
        key = f"privacy.action.{action}"
        return catalogue.translate(key, lang) if key in catalogue.messages else action

    return render(request, "privacy/audit.html", {"listing": listing, "action_label": action_label})
