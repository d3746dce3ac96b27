"""GET /health: is the app up and can it reach its database? For load balancers and monitoring."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from servicepulse.analytics_store import lag
from servicepulse.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter()
# The analytics store counts as lagging when its oldest unshipped change is older than this; /health still
# answers 200 then (the main database serves every page), but says so.
ANALYTICS_LAG_WARN_SECONDS = 60.0


@router.api_route("/health", methods=["GET", "HEAD"], include_in_schema=False)
def health(request: Request):
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar_one()
            analytics = _analytics(conn)
    except Exception as exc:  # any failure means "not healthy"; say why without a traceback
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.warning("health check failed: %s", reason)
        return JSONResponse({"status": "unavailable", "database": "unreachable", "reason": reason}, status_code=503)
    body = {"status": "ok", "database": "ok"}
    if analytics is not None:
        body["analytics_store"] = analytics
    return JSONResponse(body)


def _analytics(conn) -> dict | None:
    """The analytics store's lag, from the outbox in the main database (no call to ClickHouse); None
    without a store."""
    if not get_settings().analytics_url:
        return None
    now = lag(conn)
    seconds = now.seconds()
    return {"status": "lagging" if seconds > ANALYTICS_LAG_WARN_SECONDS else "ok", "pending": now.pending,
            "lag_seconds": round(seconds, 1),
            "last_shipped_at": now.last_shipped_at.isoformat() if now.last_shipped_at else None}
