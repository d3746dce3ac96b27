"""GET /api/v1/health: the API answers, the key is valid, and the database is reachable."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from servicepulse.api.auth import CurrentApiKey
from servicepulse.http.auth import needs
from servicepulse.http.deps import DbSession

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    api_key: str


@router.get("/health", dependencies=[needs("*")], response_model=Health, summary="Check the API, the key and the database")
def api_health(api_key: CurrentApiKey, session: DbSession) -> Health:
    session.execute(text("SELECT 1"))
    return Health(status="ok", api_key=api_key.name)
