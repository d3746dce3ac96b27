"""/api/v1 routes of privacy: erase one customer (DELETE) and export what is held on them (GET).

Admin only: the key must act for an active admin and hold the ``admin`` scope. Errors are problem+json
(404 for an unknown customer, 403 for any other key, 422 for an ambiguous id).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from servicepulse.http.auth import needs
from servicepulse.http.deps import WriteSession
from servicepulse.http.params import ApiText
from servicepulse.models import ApiKey, User
from servicepulse.org import parse_scopes
from servicepulse.privacy.service import erase_customer, export_customer, record_export

router = APIRouter(tags=["privacy"], responses={
    403: {"description": "The key does not act for an admin with the admin scope"},
    404: {"description": "No such customer"},
    422: {"description": "The id names one customer by external id and another by internal id"},
})


def admin_actor(request: Request, session: WriteSession) -> str:
    """The audit actor of an admin's key ("api-key:<id>/user:<id>"); 403 for any other key."""
    verified = getattr(request.state, "api_key", None)
    key = session.get(ApiKey, verified.id) if verified is not None else None
    user = session.get(User, key.created_by_id) if key is not None and key.created_by_id else None
    if user is None or not user.active or user.role != "admin":
        raise HTTPException(403, "erasure and export are for admins: use a key made for an active admin")
    if "admin" not in parse_scopes(getattr(key, "scopes", "admin")):
        raise HTTPException(403, "this key lacks the admin scope")
    return f"api-key:{key.id}/user:{user.id}"


AdminActor = Annotated[str, Depends(admin_actor)]
Ident = Annotated[ApiText, Path(max_length=200, description="the customer's external id (or internal id)")]


@router.delete("/customers/{ident}", dependencies=[needs("admin")], status_code=204, response_class=Response,
               summary="Erase one customer and everything held on them (art. 17 GDPR)")
def erase(ident: Ident, session: WriteSession, actor: AdminActor) -> Response:
    erase_customer(session, ident, actor)
    return Response(status_code=204)


@router.get("/customers/{ident}/export", dependencies=[needs("admin")], summary="Everything held on one customer as JSON (art. 15 GDPR)")
def export(ident: Ident, session: WriteSession, actor: AdminActor) -> dict:
    data = export_customer(session, ident)
    record_export(session, actor, ident)
    return data
