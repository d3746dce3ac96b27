"""Storage: engine, sessions, and the Alembic migrations shipped in the package."""

from servicepulse.db import outbox  # registers the analytics outbox's statement hooks
from servicepulse.db.engine import is_sqlite, make_engine
from servicepulse.db.session import UnitOfWork, session_factory

__all__ = ["outbox", "make_engine", "is_sqlite", "UnitOfWork", "session_factory"]
