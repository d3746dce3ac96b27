"""API-key authentication: ``Authorization: Bearer <key>`` (keys from `servicepulse apikey create`).

Verified keys are remembered for a few seconds per process (`servicepulse.api.key_cache`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from servicepulse.api.key_cache import VerifiedKey

_bearer = HTTPBearer(auto_error=False, scheme_name="apiKey",
                     description="An API key from `servicepulse apikey create`, sent as `Authorization: Bearer <key>`.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="servicepulse"'}


async def require_api_key(request: Request,
                          credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> VerifiedKey:
    # async: a cached key costs no hop to the thread pool; only a miss goes to the database, in a thread.
    if credentials is None or not credentials.credentials.strip():
        raise HTTPException(401, "an API key is required: send `Authorization: Bearer <key>`", headers=_CHALLENGE)
    presented = credentials.credentials.strip()
    cache = request.app.state.key_cache
    api_key = cache.cached(presented) or await run_in_threadpool(cache.verify, presented)
    if api_key is None:
        raise HTTPException(401, "the API key is unknown or revoked", headers=_CHALLENGE)
    request.state.api_key = api_key
    return api_key


CurrentApiKey = Annotated[VerifiedKey, Depends(require_api_key)]
