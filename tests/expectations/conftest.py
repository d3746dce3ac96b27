"""Fixtures for expectation tests: the web fixtures of tests/web, and the CLI runner of tests/cli."""

from __future__ import annotations

from ..cli.conftest import cli  # noqa: F401
from ..web.conftest import app, client, fast_password_hashing, make_user, settings  # noqa: F401
