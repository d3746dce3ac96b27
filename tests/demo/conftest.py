"""A demo loaded once per backend for the read-only tests of this folder."""

from __future__ import annotations

import pytest

from servicepulse.demo import load_demo

from ..conftest import wipe

TINY_SEED = 11


@pytest.fixture(scope="module")
def loaded(migrated_engine):
    """(engine, summary) with the tiny demo loaded; the tests must not write."""
    wipe(migrated_engine)
    summary = load_demo(migrated_engine, size="tiny", seed=TINY_SEED)
    yield migrated_engine, summary
    wipe(migrated_engine)
