"""Sessions and the unit of work.

Services never commit; the edge (a request, a CLI command, a job) opens one
UnitOfWork, calls services, and commits once at the end (or rolls back on error).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


class UnitOfWork:
    """One transaction: `with UnitOfWork(engine) as session: ...` commits on success."""

    def __init__(self, engine: Engine, readonly: bool = False):
        self.engine = engine
        self.readonly = readonly
        self.session: Session | None = None

    def __enter__(self) -> Session:
        bind = self.engine.execution_options(readonly=True) if self.readonly else self.engine
        self.session = Session(bind=bind, expire_on_commit=False)
        return self.session

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.session is not None
        try:
            if exc_type is None and not self.readonly:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()


@contextmanager
def unit_of_work(engine: Engine, readonly: bool = False) -> Iterator[Session]:
    with UnitOfWork(engine, readonly=readonly) as session:
        yield session
