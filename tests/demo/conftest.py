"""A demo loaded once per backend, in a database of its own, for the read-only tests of this folder."""

from __future__ import annotations

import pytest

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.demo import load_demo
from servicepulse.demo.generate import generate

from ..conftest import fresh_database_url

TINY_SEED = 11
SMALL_SEED = 3


@pytest.fixture(scope="package")
def small_data():
    """The small demo generated in memory (no database), shared by the tests that need volume."""
    return generate("small", seed=SMALL_SEED)


@pytest.fixture(scope="package")
def loaded(backend, tmp_path_factory):
    """(engine, summary) with the tiny demo loaded; the tests must not write.
    Its own database, so the `engine` fixture's wipes elsewhere do not touch it."""
    engine = make_engine(fresh_database_url(backend, tmp_path_factory.mktemp("demo")))
    migrate.upgrade(engine)
    summary = load_demo(engine, size="tiny", seed=TINY_SEED)
    yield engine, summary
    engine.dispose()
    if backend == "postgresql":
        _drop_pg_database(engine.url)


def _drop_pg_database(url) -> None:
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
