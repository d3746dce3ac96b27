"""Fixtures for expectation tests: the web fixtures of tests/web, and a CLI runner."""

from __future__ import annotations

import sys

import pytest

from servicepulse.settings import get_settings

from ..web.conftest import app, client, fast_password_hashing, make_user, settings  # noqa: F401


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """cli(database_url, *args) -> (exit code, stdout, stderr), in-process through the real entry point."""
    from servicepulse.cli import main

    monkeypatch.setenv("SERVICEPULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SERVICEPULSE_SECRET_KEY", "cli-test-secret-" + "x" * 32)
    monkeypatch.setenv("COLUMNS", "200")

    def run(database_url: str, *args: str):
        monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", database_url)
        monkeypatch.setattr(sys, "argv", ["servicepulse", *args])
        get_settings.cache_clear()
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()
