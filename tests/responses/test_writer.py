"""Concurrent single responses are written in groups, and a bad one never fails its neighbours."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from servicepulse.models import Response
from servicepulse.responses import service
from servicepulse.responses.writer import PG_GROUP_WRITERS, ResponseWriter

from .conftest import response


def test_waiting_singles_share_one_transaction_and_keep_their_own_outcome(engine, world):
    writer = ResponseWriter(engine)
    payloads = [response(f"R-{i}") for i in range(8)]
    payloads.append(response("R-bad", answers={"ces": 9}))
    payloads.append(response("R-0", answers={"ces": 1}))  # same id as R-0, other content: one of the two loses
    payloads.append(response("R-1"))  # an identical copy: a replay
    outcomes: dict[int, object] = {}

    def submit(i):
        try:
            outcomes[i] = writer.write_one(payloads[i])
        except (service.IngestRejected, service.IngestConflict) as exc:
            outcomes[i] = exc

    # hold the writer (every permit of it on PostgreSQL) so that every request queues behind it
    held = 1 if engine.dialect.name == "sqlite" else PG_GROUP_WRITERS
    for _ in range(held):
        writer._write.acquire()
    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    while len(writer._queue) < len(payloads):
        time.sleep(0.01)
    for _ in range(held):
        writer._write.release()
    for t in threads:
        t.join()

    assert writer.group_sizes[0] == len(payloads)  # all taken along by the first thread through
    bad = outcomes[8]
    assert isinstance(bad, service.IngestRejected) and dict(bad.problems) == {
        "/answers/ces": "9 is out of range: a ces score runs from 1 to 7"}
    r0 = [outcomes[0], outcomes[9]]
    assert sum(isinstance(o, service.IngestConflict) for o in r0) == 1
    winners = [o for o in r0 if isinstance(o, tuple)]
    assert len(winners) == 1 and winners[0][1] is True
    created = [outcomes[i][1] for i in (1, 10)]
    assert sorted(created) == [False, True] and outcomes[1][0] == outcomes[10][0]
    assert all(outcomes[i][1] for i in range(2, 8))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Response)) == 8


def test_batches_and_singles_from_many_threads(engine, world):
    writer = ResponseWriter(engine)
    errors = []

    def submit(w):
        try:
            for n in range(5):
                writer.write_one(response(f"S-{w}-{n}"))
            writer.write_batch([response(f"B-{w}-{n}") for n in range(5)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Response)) == 60
    assert sum(writer.group_sizes) == 30  # every single went through exactly one group


def test_concurrent_batches_with_the_same_ids_in_other_orders_store_each_once(engine, world):
    """On PostgreSQL batches run concurrently: overlapping ids sent in other orders must not deadlock
    (full-size batches: with unsorted inserts PostgreSQL reported a deadlock here on every run)."""
    import random

    writer = ResponseWriter(engine)
    payloads = [response(f"O-{n}") for n in range(service.MAX_BATCH)]
    outcomes: list[object] = []
    start = threading.Barrier(6)

    def submit(w):
        mine = payloads[:]
        random.Random(w).shuffle(mine)
        start.wait()
        try:
            result = writer.write_batch(mine)
            outcomes.append({r["external_id"]: r["id"] for r in result.resources})
        except Exception as exc:  # pragma: no cover - reported below
            outcomes.append(exc)

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert all(o == outcomes[0] for o in outcomes)  # everyone got the same stored resources
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Response)) == service.MAX_BATCH
