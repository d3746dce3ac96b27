"""One writer at a time on SQLite, queued in Python rather than in SQLite's busy handler.

SQLite allows one write transaction at a time. Concurrent request threads that
all open BEGIN IMMEDIATE wait in SQLite's busy handler, which sleeps in growing
steps (up to 100 ms) and so turns contention into long tail latency. A lock per
engine lets the threads queue instead and hand over the moment the previous
commit is done. Other processes writing the same file still meet the busy
timeout, as before. PostgreSQL needs none of this.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

_LOCKS: "WeakKeyDictionary[Engine, threading.Lock]" = WeakKeyDictionary()
_GUARD = threading.Lock()


def sqlite_writer(engine: Engine):
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _GUARD:
        lock = _LOCKS.get(engine)
        if lock is None:
            lock = _LOCKS[engine] = threading.Lock()
    return _held(lock)


@contextmanager
def _held(lock: threading.Lock):
    with lock:
        yield
