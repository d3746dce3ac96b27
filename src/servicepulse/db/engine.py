"""Engine creation with the connection rules both databases need.

SQLite (the embedded default): WAL so readers do not block the writer, a busy
timeout instead of immediate "database is locked", foreign keys on, and write
transactions opened with BEGIN IMMEDIATE so two writers queue up at the start
instead of failing half-way when one tries to upgrade its read lock.
Connections marked ``readonly`` (execution option) use a deferred BEGIN.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from servicepulse.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(engine_or_url) -> bool:
    url = getattr(engine_or_url, "url", engine_or_url)
    return make_url(str(url) if not hasattr(url, "drivername") else url).get_backend_name() == "sqlite"


def _normalise_url(url: str) -> str:
    # "postgresql://" would select psycopg2, which we do not ship; use psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = _normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"database URL {url!r} is not valid: expected e.g. sqlite:///path/servicepulse.db "
            "or postgresql+psycopg://user:password@host/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ConfigurationError(
                f"PostgreSQL driver {parsed.get_driver_name()!r} is not supported: use postgresql+psycopg://"
            )
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise ConfigurationError(f"database {backend!r} is not supported: use SQLite or PostgreSQL")


def _create_private(path: Path) -> None:
    """Create the database file empty (a valid SQLite database) with mode 0600 before SQLite opens it.

    SQLite would create it with the process's umask (often world-readable); its -wal, -shm and journal
    files take the database file's mode, so they are private too. An existing file is left alone."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigurationError(f"cannot create the SQLite database file {str(path)!r}: {exc.strerror}") from None


def _sqlite_engine(parsed, **kwargs) -> Engine:
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(f"cannot create the folder for the SQLite database {database!r}: {exc}") from None
        _create_private(Path(database).expanduser())
    kwargs.setdefault("poolclass", NullPool) if database in (None, "", ":memory:") else None
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
