"""Writing responses from concurrent requests: one writer per process, single responses grouped.

SQLite allows one write transaction at a time. Request threads that all open
BEGIN IMMEDIATE wait in SQLite's busy handler, which sleeps in growing steps and
turns contention into long tail latency; so the threads of a process queue on
a lock instead. While one thread writes, single responses that arrive queue up;
the next thread to get the lock writes all of them in one transaction (flat
combining): one commit for many requests. Every request still gets its answer
only after its response is committed.

A group is all or nothing, so when one response in it is rejected, each is
written again on its own: a bad request never fails its neighbours.

PostgreSQL runs concurrent write transactions, so there batches take no lock
and up to `PG_GROUP_WRITERS` groups of single responses are written at once
(each commit waits for its WAL flush; several in flight share that wait).
Concurrent inserts take their unique-key locks in external-id order
(repository.py sorts), so two of them cannot deadlock.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine

from servicepulse.db.session import UnitOfWork
from servicepulse.db.write_lock import engine_write_lock
from servicepulse.responses import service

MAX_GROUP = 200
PG_GROUP_WRITERS = 2  # well inside the engine's connection pool (5 + 10 overflow)


@dataclass
class _Slot:
    payload: dict
    done: bool = False
    resource: dict | None = None
    created: bool = False
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def finish(self) -> None:
        self.done = True
        self.finished.set()


class ResponseWriter:
    def __init__(self, engine: Engine):
        self.engine = engine
        sqlite = engine.dialect.name == "sqlite"
        # On SQLite the lock is shared with every other db.write_lock.sqlite_writer() user of this engine.
        self._write = engine_write_lock(engine) if sqlite else threading.BoundedSemaphore(PG_GROUP_WRITERS)
        self._batch_lock = self._write if sqlite else nullcontext()
        self._queue_lock = threading.Lock()
        self._queue: list[_Slot] = []
        self.group_sizes: list[int] = []  # for tests and diagnostics (bounded below)

    def write_batch(self, payload, *, alerts: bool = True) -> service.IngestResult:
        """A list (or anything else that is not one response): written on its own, all or nothing;
        ``alerts=False``: historic answers, the closed loop's alert rules do not run on them."""
        with self._batch_lock, UnitOfWork(self.engine) as session:
            return service.ingest(session, payload, alerts=alerts)

    def write_one(self, payload: dict) -> tuple[dict, bool]:
        """One response: (resource, created). Raises IngestRejected / IngestConflict like ingest()."""
        slot = _Slot(payload)
        with self._queue_lock:
            self._queue.append(slot)
        while not slot.done:
            with self._write:  # write what is waiting, ours included, unless someone took it along
                with self._queue_lock:
                    group, self._queue[:] = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                if group:
                    self._write_group(group)
            if not group:  # another writer (PostgreSQL) has ours in hand
                slot.finished.wait()
        if slot.error is not None:
            raise slot.error
        return slot.resource, slot.created

    def _write_group(self, group: list[_Slot]) -> None:
        if len(self.group_sizes) < 10_000:
            self.group_sizes.append(len(group))
        if len(group) > 1:
            try:
                with UnitOfWork(self.engine) as session:
                    result = service.ingest(session, [s.payload for s in group])
            except Exception:  # noqa: BLE001 - someone in the group is at fault; find out who, one by one
                pass
            else:
                for slot, resource, created in zip(group, result.resources, result.created):
                    slot.resource, slot.created = resource, created
                    slot.finish()
                return
        for slot in group:
            try:
                with UnitOfWork(self.engine) as session:
                    result = service.ingest(session, slot.payload)
                slot.resource, slot.created = result.resources[0], result.created[0]
            except BaseException as exc:  # handed to the request thread that owns the slot
                slot.error = exc
            slot.finish()


_WRITERS: WeakKeyDictionary[Engine, ResponseWriter] = WeakKeyDictionary()
_WRITERS_GUARD = threading.Lock()  # not write_lock's guard: creating a writer takes that one itself


def writer_for(engine: Engine) -> ResponseWriter:
    with _WRITERS_GUARD:
        writer = _WRITERS.get(engine)
        if writer is None:
            writer = _WRITERS[engine] = ResponseWriter(engine)
        return writer
