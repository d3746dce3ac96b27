"""Shared fixtures.

Every test that touches storage takes the `engine` fixture, which runs it once
on SQLite and once on PostgreSQL. PostgreSQL runs when
SERVICEPULSE_TEST_POSTGRES_URL names a database server the tests may create
databases on (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres); without
it those variants are skipped with that reason. Databases are created by
migrations, never by create_all.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.models import Base

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PG_ENV = "SERVICEPULSE_TEST_POSTGRES_URL"


def pytest_report_header(config):
    pg = os.environ.get(PG_ENV)
    return [f"PostgreSQL tests: {'on (' + make_url(pg).render_as_string(hide_password=True) + ')' if pg else 'off: set ' + PG_ENV}"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


_created_pg_databases: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    """Drop the PostgreSQL databases this test process created."""
    if not _created_pg_databases:
        return
    import psycopg

    base = make_url(os.environ[PG_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
    with psycopg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as conn:
        for name in _created_pg_databases:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_pg_database(suffix: str) -> str:
    """Create a fresh PostgreSQL database and return its URL."""
    import psycopg

    base = make_url(os.environ[PG_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"sp_test_{suffix}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    _created_pg_databases.append(name)
    return base.set(database=name).render_as_string(hide_password=False)


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / ('db-' + uuid.uuid4().hex[:8] + '.sqlite')}"
    return create_pg_database(f"{_worker()}_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to run the PostgreSQL variant")
    return request.param


@pytest.fixture(scope="session")
def migrated_engine(backend, tmp_path_factory):
    """One migrated database per backend and test worker, reused across tests."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'servicepulse.sqlite'}"
    else:
        # The process id keeps concurrent test runs on one server apart.
        url = create_pg_database(f"{_worker()}_{os.getpid()}")
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def wipe(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def engine(migrated_engine):
    """A migrated, empty database (SQLite and PostgreSQL variants)."""
    wipe(migrated_engine)
    return migrated_engine


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
