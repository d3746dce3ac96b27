"""One write lock per SQLite engine and process, shared by every busy write path.

SQLite allows one write transaction at a time; request threads that all open
BEGIN IMMEDIATE wait in SQLite's busy handler, which sleeps in growing steps.
Queuing them on a process lock instead keeps tail latency short. PostgreSQL
runs concurrent write transactions and needs no lock.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_GUARD = threading.Lock()


def engine_write_lock(engine: Engine) -> threading.Lock:
    """The process's write lock for this engine (created on first use)."""
    with _GUARD:
        lock = _LOCKS.get(engine)
        if lock is None:
            lock = _LOCKS[engine] = threading.Lock()
        return lock


def sqlite_writer(engine: Engine):
    """`with sqlite_writer(engine), UnitOfWork(engine) as session:` for any write path of a busy API:
    on SQLite, the process's write transactions queue on one lock; elsewhere it does nothing."""
    return engine_write_lock(engine) if engine.dialect.name == "sqlite" else nullcontext()
