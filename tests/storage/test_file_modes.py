"""The secret key and the SQLite database are their owner's only (mode 0600) from the moment they exist.

Each test runs with umask 000, so any mode that is not 0600 comes from our code, not from a strict umask
that happens to hide the problem (SQLite creates files 0644 and Path.write_text 0666, minus the umask).
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from servicepulse.db.engine import make_engine
from servicepulse.settings import Settings

from ..cli.conftest import cli  # noqa: F401  (fixture: the real CLI entry point in-process)


@pytest.fixture(autouse=True)
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_on_a_fresh_folder_creates_a_private_database_and_wal_files(cli, tmp_path):  # noqa: F811
    data = tmp_path / "data"  # the cli fixture's data folder; it does not exist yet
    assert not data.exists()
    run = cli(None, "db", "upgrade")
    assert run.code == 0, run.err
    database = data / "servicepulse.db"
    assert mode(database) == 0o600
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:  # a write while a connection is open keeps the -wal and -shm files
            conn.execute(text("CREATE TABLE file_mode_probe (x INTEGER)"))
            conn.execute(text("INSERT INTO file_mode_probe VALUES (1)"))
            companions = [Path(f"{database}{suffix}") for suffix in ("-wal", "-shm")]
            assert all(p.exists() for p in companions)
            assert {p.name: mode(p) for p in [database, *companions]} == {
                "servicepulse.db": 0o600, "servicepulse.db-wal": 0o600, "servicepulse.db-shm": 0o600}
    finally:
        engine.dispose()


def test_an_existing_database_file_keeps_its_mode_and_content(tmp_path):
    database = tmp_path / "kept.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (x INTEGER)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
    engine.dispose()
    os.chmod(database, 0o640)  # the administrator's choice
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT x FROM kept")).scalar() == 42
    engine.dispose()
    assert mode(database) == 0o640


def test_the_generated_secret_key_is_private_and_nothing_else_is_left_behind(tmp_path):
    data = tmp_path / "data"
    key = Settings(data_dir=data).resolved_secret_key()
    path = data / "secret.key"
    assert len(key) >= 64 and path.read_text() == key
    assert mode(path) == 0o600
    assert sorted(os.listdir(data)) == ["secret.key"]  # no temporary file left over
    assert Settings(data_dir=data).resolved_secret_key() == key  # stable across processes and restarts


def test_an_existing_secret_key_is_read_not_rewritten(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("an-existing-key-of-an-older-installation\n")
    os.chmod(path, 0o640)
    before = path.stat()
    assert Settings(data_dir=tmp_path).resolved_secret_key() == "an-existing-key-of-an-older-installation"
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, mode(path)) == (before.st_ino, before.st_mtime_ns, 0o640)


def test_processes_starting_together_agree_on_one_key(tmp_path):
    """A server and a worker started at once: the second to write must not replace the first's key."""
    data = tmp_path / "data"
    data.mkdir()
    count = 16
    barrier = threading.Barrier(count)
    keys: list[str] = []

    def start():
        settings = Settings(data_dir=data)
        barrier.wait(timeout=30)
        keys.append(settings.resolved_secret_key())

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(keys) == count and set(keys) == {(data / "secret.key").read_text()}
    assert sorted(os.listdir(data)) == ["secret.key"] and mode(data / "secret.key") == 0o600
