"""A demo loaded once per backend, in a database of its own, for the read-only tests of this folder."""

from __future__ import annotations

import pytest

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.demo import load_demo

from ..conftest import fresh_database_url

TINY_SEED = 11


@pytest.fixture(scope="package")
def loaded(backend, tmp_path_factory):
    """(engine, summary) with the tiny demo loaded; the tests must not write.
    Its own database, so the `engine` fixture's wipes elsewhere do not touch it."""
    engine = make_engine(fresh_database_url(backend, tmp_path_factory.mktemp("demo")))
    migrate.upgrade(engine)
    summary = load_demo(engine, size="tiny", seed=TINY_SEED)
    yield engine, summary
    engine.dispose()
