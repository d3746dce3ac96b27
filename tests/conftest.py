"""Shared fixtures.

Every test that touches storage takes the `engine` fixture, which runs it once
on SQLite and once on PostgreSQL. PostgreSQL runs when
SERVICEPULSE_TEST_POSTGRES_URL names a database server the tests may create
databases on (e.g. postgresql+psycopg://postgres@127.0.0.1/postgres); without
it those variants are skipped with that reason. Databases are created by
migrations, never by create_all.

Expensive databases are built once per test run and backend and then copied
(`templates`): the migrated empty schema, and each demo organisation a test
asks for with ``@pytest.mark.demo(size, seed)`` (its `engine` is then a fresh
copy holding that demo) or through `templates.copy`. With pytest-xdist the
first worker to need one builds it under a file lock in the run's shared
temporary folder; the others copy it. A copy is a file copy on SQLite and
``CREATE DATABASE ... TEMPLATE`` on PostgreSQL, so every test that writes
still starts from the same state whatever ran before it.

The tests never see the user's environment, working folder or data folder:
`_isolated_environment` drops every SERVICEPULSE_* variable (except the two
that configure the test run) and points the data folder at a temporary one.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.models import Base
from servicepulse.registry import install_job_handlers

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PG_ENV = "SERVICEPULSE_TEST_POSTGRES_URL"
KEPT_ENV = {PG_ENV, "SERVICEPULSE_REQUIRE_BROWSER"}  # configure the test run, not the product


def pytest_configure(config):
    config.addinivalue_line("markers", "demo(size, seed): the test's `engine` is a fresh copy of that demo")


def pytest_report_header(config):
    pg = os.environ.get(PG_ENV)
    return [f"PostgreSQL tests: {'on (' + make_url(pg).render_as_string(hide_password=True) + ')' if pg else 'off: set ' + PG_ENV}"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


# --- the user's environment stays out -------------------------------------------------------------

@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory):
    """No SERVICEPULSE_* setting of the user's shell, and a temporary data folder instead of
    ./servicepulse-data (a `servicepulse demo` run in the working folder left a model there once)."""
    from servicepulse.settings import get_settings

    saved = {k: v for k, v in os.environ.items() if k.startswith("SERVICEPULSE_")}
    for key in saved:
        if key not in KEPT_ENV:
            del os.environ[key]
    os.environ["SERVICEPULSE_DATA_DIR"] = str(tmp_path_factory.mktemp("servicepulse-data"))
    get_settings.cache_clear()
    yield
    for key in [k for k in os.environ if k.startswith("SERVICEPULSE_")]:
        del os.environ[key]
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _job_handlers_installed():
    """Tests run jobs in-process (run_pending, Worker), as the app and the CLI do after installing them."""
    install_job_handlers()


# --- PostgreSQL databases ------------------------------------------------------------------------

_created_pg_databases: list[str] = []


def _pg_admin_url() -> str:
    base = make_url(os.environ[PG_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
    return base.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(name: str) -> str:
    base = make_url(os.environ[PG_ENV].replace("postgresql://", "postgresql+psycopg://", 1))
    return base.set(database=name).render_as_string(hide_password=False)


def _pg_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pytest_sessionfinish(session, exitstatus):
    """Drop the PostgreSQL databases this test process created; the process that owns the run's shared
    folder (the xdist controller, or the only process) also drops the run's templates."""
    if not os.environ.get(PG_ENV):
        return
    names = list(_created_pg_databases)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        factory = getattr(session.config, "_tmp_path_factory", None)
        run_file = factory.getbasetemp() / "templates" / "run-id" if factory else None
        if run_file is not None and run_file.exists():
            import psycopg

            prefix = f"sp_t_{run_file.read_text().strip()}_"
            with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
                names += [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)",
                                                     (prefix,))]
    if names:
        _pg_execute(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


def create_pg_database(suffix: str, template: str | None = None) -> str:
    """Create a fresh PostgreSQL database (empty, or a copy of `template`) and return its URL."""
    name = f"sp_test_{suffix}"
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    _created_pg_databases.append(name)
    return _pg_url(name)


def drop_pg_database(url) -> None:
    name = make_url(str(url) if not hasattr(url, "database") else url).database
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if name in _created_pg_databases:
        _created_pg_databases.remove(name)


def fresh_database_url(backend: str, tmp_path: Path) -> str:
    """An empty, unmigrated database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / ('db-' + uuid.uuid4().hex[:8] + '.sqlite')}"
    return create_pg_database(f"{_worker()}_{uuid.uuid4().hex[:8]}")


# --- databases built once per run and backend, then copied ---------------------------------------

@contextmanager
def _file_lock(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Templates:
    """Databases built once per test run and backend (by whichever xdist worker needs one first), copied for use.

    ``copy(name, build)``: a fresh database holding what ``build(engine)`` wrote into a migrated empty one
    (``base=`` another template's name to start from that instead); returns (url, extra) where extra is
    what ``build`` returned (pickled, so every worker gets it).
    """

    def __init__(self, backend: str, shared: Path, scratch: Path):
        self.backend, self.scratch = backend, scratch
        self.dir = shared / "templates"
        self.dir.mkdir(exist_ok=True)
        with _file_lock(self.dir / "run-id.lock"):
            run_file = self.dir / "run-id"
            if not run_file.exists():
                run_file.write_text(uuid.uuid4().hex[:8])
        self.run_id = run_file.read_text().strip()

    def _template(self, name: str) -> str:
        """The template's file path (SQLite) or database name (PostgreSQL)."""
        if self.backend == "sqlite":
            return str(self.dir / f"{name}.sqlite")
        return f"sp_t_{self.run_id}_{name}"[:63]

    def _url_of(self, template: str) -> str:
        return f"sqlite:///{template}" if self.backend == "sqlite" else _pg_url(template)

    def ensure(self, name: str, build, base: str | None = None, base_build=None):
        """Build the template `name` unless some process did; returns what its build returned."""
        done = self.dir / f"{name}-{self.backend}.done"
        if not done.exists():
            if base is not None:
                self.ensure(base, base_build)
            with _file_lock(self.dir / f"{name}-{self.backend}.lock"):
                if not done.exists():
                    template = self._template(name)
                    if self.backend == "sqlite":
                        Path(template).unlink(missing_ok=True)
                        if base is not None:
                            self._copy_sqlite(self._template(base), template)
                    elif base is None:
                        _pg_execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)', f'CREATE DATABASE "{template}"')
                    else:
                        with _file_lock(self.dir / f"{base}-{self.backend}.lock"):  # copies of it wait
                            _pg_execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)',
                                        f'CREATE DATABASE "{template}" TEMPLATE "{self._template(base)}"')
                    engine = make_engine(self._url_of(template))
                    try:
                        if base is None:
                            migrate.upgrade(engine)
                        extra = build(engine) if build else None
                    finally:
                        engine.dispose()  # a PostgreSQL template must have no connections to be copied
                    done.write_bytes(pickle.dumps(extra))
        return pickle.loads(done.read_bytes())

    @staticmethod
    def _copy_sqlite(source: str, target: str) -> None:
        # The backup API copies a consistent database whatever the WAL holds.
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        src.close()
        dst.close()

    def copy(self, name: str, build=None, base: str | None = None, base_build=None) -> tuple[str, object]:
        extra = self.ensure(name, build, base, base_build)
        template = self._template(name)
        if self.backend == "sqlite":
            target = self.scratch / f"{name}-{uuid.uuid4().hex[:8]}.sqlite"
            self._copy_sqlite(template, str(target))
            return f"sqlite:///{target}", extra
        with _file_lock(self.dir / f"{name}-{self.backend}.lock"):  # one copy at a time from a template
            url = create_pg_database(f"{_worker()}_{uuid.uuid4().hex[:8]}", template=template)
        return url, extra


def _shared_tmp(tmp_path_factory) -> Path:
    """The temporary folder all processes of this run share (xdist workers: their basetemp's parent)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request):
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to run the PostgreSQL variant")
    return request.param


@pytest.fixture(scope="session")
def templates(backend, tmp_path_factory) -> Templates:
    return Templates(backend, _shared_tmp(tmp_path_factory), tmp_path_factory.mktemp(f"copies-{backend}"))


@pytest.fixture(scope="session")
def migrated_engine(templates):
    """One migrated database per backend and test worker, reused across tests (a copy of the run's
    migrated template: alembic runs once per backend)."""
    url, _ = templates.copy("migrated")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def wipe(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


# --- the demo organisation -----------------------------------------------------------------------

def _load_demo(size: str, seed: int):
    def build(engine):
        from servicepulse.demo import load_demo

        return load_demo(engine, size=size, seed=seed)
    return build


def demo_template(size: str, seed: int) -> tuple[str, object]:
    """(template name, build) of the demo `size`/`seed` as load_demo writes it; build returns its summary."""
    return f"demo-{size}-{seed}", _load_demo(size, seed)


@contextmanager
def database_copy(templates: Templates, name: str, build=None, base=None):
    """(engine, extra) on a fresh copy of the template; the copy is removed afterwards."""
    base_name, base_build = base if base else (None, None)
    url, extra = templates.copy(name, build, base_name, base_build)
    engine = make_engine(url)
    try:
        yield engine, extra
    finally:
        engine.dispose()
        if templates.backend == "postgresql":
            drop_pg_database(url)
        else:
            path = Path(make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)


@contextmanager
def demo_copy(templates: Templates, size: str, seed: int):
    """(engine, summary) on a fresh copy of the demo `size`/`seed` (built once per run and backend)."""
    with database_copy(templates, *demo_template(size, seed)) as pair:
        yield pair


@contextmanager
def engine_for(request, templates):
    """What the `engine` fixture gives (folders that override `engine` to seed it build on this)."""
    marker = request.node.get_closest_marker("demo")
    if marker is not None:
        with demo_copy(templates, *marker.args, **marker.kwargs) as (demo_engine, _):
            yield demo_engine
        return
    migrated = request.getfixturevalue("migrated_engine")
    wipe(migrated)
    yield migrated


@contextmanager
def engine_seeded_if(request, templates, fixture: str, name: str, build):
    """For a folder's `engine` override: a copy of the template `name` (built once per run and backend by
    `build`) when the test takes `fixture`, which reads what `build` returned; else the usual engine."""
    if fixture in request.fixturenames:
        with database_copy(templates, name, build) as (copy, _):
            yield copy
    else:
        with engine_for(request, templates) as plain:
            yield plain


@pytest.fixture
def engine(request, templates):
    """A migrated, empty database (SQLite and PostgreSQL variants); with ``@pytest.mark.demo(size, seed)``
    a fresh copy of that demo instead."""
    with engine_for(request, templates) as e:
        yield e


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
