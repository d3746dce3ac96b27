"""Request-scoped storage: one unit of work per request, committed before the response is sent.

Endpoints are plain ``def`` functions on the sync session. Use::

    def page(session: DbSession): ...          # read-only for GET/HEAD, read-write otherwise
    def action(session: WriteSession): ...     # always read-write (a GET that must record something)

``scope="function"`` makes FastAPI run the code after ``yield`` (commit or
rollback) when the endpoint returns and before the response goes out, so a
client never sees a success for a change that then failed to commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from servicepulse.analytics_store.reader import use_store
from servicepulse.db.session import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def _session(request: Request, readonly: bool) -> Iterator[Session]:
    with UnitOfWork(get_engine(request), readonly=readonly) as session:
        store = getattr(request.app.state, "analytics_store", None)
        if store is not None:  # raw-row analytics (drill-downs, comment search, process statistics) read there
            use_store(session, store.query_arrow)
        yield session


def db_session(request: Request) -> Iterator[Session]:
    yield from _session(request, readonly=request.method in SAFE_METHODS)


def write_session(request: Request) -> Iterator[Session]:
    yield from _session(request, readonly=False)


DbSession = Annotated[Session, Depends(db_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
