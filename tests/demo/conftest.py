"""A demo loaded once per backend, in a database of its own, for the read-only tests of this folder."""

from __future__ import annotations

import pytest

from servicepulse.demo.generate import generate

from ..conftest import demo_copy, drop_pg_database

TINY_SEED = 11
SMALL_SEED = 3


@pytest.fixture(scope="package")
def small_data():
    """The small demo generated in memory (no database), shared by the tests that need volume."""
    return generate("small", seed=SMALL_SEED)


@pytest.fixture(scope="package")
def loaded(templates):
    """(engine, summary) with the tiny demo loaded; the tests must not write.
    Its own database (a copy of the run's tiny demo), so the `engine` fixture's wipes elsewhere do not touch it."""
    with demo_copy(templates, "tiny", TINY_SEED) as (engine, summary):
        yield engine, summary


def _drop_pg_database(url) -> None:
    drop_pg_database(url)
