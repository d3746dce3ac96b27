"""API-key authentication: ``Authorization: Bearer <key>`` (keys from `servicepulse apikey create`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from servicepulse.db.session import UnitOfWork
from servicepulse.models import ApiKey
from servicepulse.org.service import verify_api_key

_bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                     description="An API key from `servicepulse apikey create`, sent as `Authorization: Bearer <key>`.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="servicepulse"'}


def require_api_key(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
    if credentials is None or not credentials.credentials.strip():
        raise HTTPException(401, "an API key is required: send `Authorization: Bearer <key>`", headers=_CHALLENGE)
    # Its own short unit of work: recording last_used_at must commit even on
    # read-only requests.
    with UnitOfWork(request.app.state.engine) as session:
        api_key = verify_api_key(session, credentials.credentials.strip())
    if api_key is None:
        raise HTTPException(401, "the API key is unknown or revoked", headers=_CHALLENGE)
    request.state.api_key = api_key
    return api_key


CurrentApiKey = Annotated[ApiKey, Depends(require_api_key)]
