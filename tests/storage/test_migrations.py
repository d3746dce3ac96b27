"""Migrations: empty database up, down, up again, and no drift between models and migrations."""

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import SchemaMismatch
from servicepulse.models import Base, Customer

from ..conftest import fresh_database_url


def test_up_down_up_and_no_drift(backend, tmp_path):
    engine = make_engine(fresh_database_url(backend, tmp_path))
    with pytest.raises(SchemaMismatch, match="not initialised"):
        migrate.check_schema(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)
    migrate.check_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    engine.dispose()


def test_newer_schema_is_refused(backend, tmp_path):
    engine = make_engine(fresh_database_url(backend, tmp_path))
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff_future'")
    with pytest.raises(SchemaMismatch, match="newer version"):
        migrate.check_schema(engine)
    with pytest.raises(SchemaMismatch, match="newer version"):
        migrate.upgrade(engine)
    engine.dispose()


def test_timestamps_round_trip_as_utc(engine):
    amsterdam = timezone(timedelta(hours=1))
    made = datetime(2026, 1, 9, 21, 30, tzinfo=amsterdam)
    with UnitOfWork(engine) as s:
        s.add(Customer(external_id="C1", created_at=made))
    with UnitOfWork(engine, readonly=True) as s:
        got = s.scalar(select(Customer.created_at))
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == made


def test_naive_timestamps_are_refused(engine):
    with pytest.raises(Exception, match="naive datetime"):
        with UnitOfWork(engine) as s:
            s.add(Customer(external_id="C2", created_at=datetime(2026, 1, 1)))
            s.flush()
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Customer).where(Customer.external_id == "C2")) is None


def test_sqlite_connection_rules(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
