"""GET /health: is the app up and can it reach its database? For load balancers and monitoring."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

log = logging.getLogger(__name__)
router = APIRouter()


@router.api_route("/health", methods=["GET", "HEAD"], include_in_schema=False)
def health(request: Request):
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:  # any failure means "not healthy"; say why without a traceback
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("health check failed: %s", reason)
        return JSONResponse({"status": "unavailable", "database": "unreachable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
