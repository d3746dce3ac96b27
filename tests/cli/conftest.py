"""Running the real CLI entry point (`servicepulse.cli.main`) in-process, against a chosen database."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from servicepulse.settings import get_settings


@dataclass
class Run:
    code: int
    out: str
    err: str

    def __iter__(self):  # `code, out, err = cli(...)` as well as run.code
        return iter((self.code, self.out, self.err))


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path):
    """cli(database_url, *args) -> Run. Settings are re-read for every call (they are cached per process)."""
    from servicepulse.cli import main

    monkeypatch.setenv("SERVICEPULSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SERVICEPULSE_SECRET_KEY", "cli-test-secret-" + "x" * 32)
    monkeypatch.setenv("COLUMNS", "200")  # Rich wraps at 80 columns otherwise

    def run(database_url: str | None, *args: str) -> Run:
        if database_url is None:
            monkeypatch.delenv("SERVICEPULSE_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("SERVICEPULSE_DATABASE_URL", database_url)
        monkeypatch.setattr(sys, "argv", ["servicepulse", *args])
        get_settings.cache_clear()
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            get_settings.cache_clear()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)
