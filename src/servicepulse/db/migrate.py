"""Schema migrations (Alembic, shipped in the package) and the schema check run at start-up."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from servicepulse.errors import DatabaseUnavailable, SchemaMismatch

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    """The shipped migration scripts, read once per process (every app start checks against them)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def _connect(engine: Engine):
    try:
        return engine.connect()
    except (OperationalError, DBAPIError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if getattr(exc, "orig", None) else str(exc)
        raise DatabaseUnavailable(
            f"cannot connect to the database at {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None


def current_revision(engine: Engine) -> str | None:
    with _connect(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _run(engine: Engine, fn, *args) -> None:
    cfg = alembic_config(engine)
    with _connect(engine) as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, *args)
        conn.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    rev = current_revision(engine)
    _refuse_unknown(rev)
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, command.downgrade, revision)


def _refuse_unknown(rev: str | None) -> None:
    if rev is None:
        return
    try:
        _scripts().get_revision(rev)
    except Exception:
        raise SchemaMismatch(
            f"the database is at schema revision {rev}, which this version of servicepulse does not know: "
            "it was probably migrated by a newer version; upgrade servicepulse"
        ) from None


def check_schema(engine: Engine) -> None:
    """Refuse to run against a database that is not exactly at our head revision."""
    rev = current_revision(engine)
    if rev is None:
        with _connect(engine) as conn:
            has_tables = bool(inspect(conn).get_table_names())
        hint = "it has tables but no schema revision" if has_tables else "it is empty"
        raise SchemaMismatch(f"the database is not initialised ({hint}): run `servicepulse db upgrade`")
    _refuse_unknown(rev)
    head = head_revision()
    if rev != head:
        raise SchemaMismatch(
            f"the database is at schema revision {rev} but this code needs {head}: run `servicepulse db upgrade`"
        )
