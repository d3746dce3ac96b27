"""The worker loop: poll the job table, run what is due, sleep a little when idle.

Used in-process by `servicepulse serve` (start_worker_thread) and on its own by
`servicepulse worker`. Several workers, in threads or processes, may share a
database: claims never hand one job to two of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from servicepulse.jobs.periodic import start_periodic_jobs
from servicepulse.jobs.queue import default_worker_id, run_pending
from servicepulse.models import utcnow

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, engine: Engine, poll_interval: float = 1.0, batch: int = 10,
                 worker_id: str | None = None, clock: Callable = utcnow):
        self.engine = engine
        self.poll_interval = poll_interval
        self.batch = batch
        self.worker_id = worker_id or default_worker_id()
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def run_once(self) -> int:
        """One poll: run the due jobs; returns how many were claimed."""
        summary = run_pending(self.engine, now=self.clock(), limit=self.batch, worker_id=self.worker_id)
        self.runs += summary.claimed
        return summary.claimed

    def run_forever(self) -> None:
        try:
            start_periodic_jobs(self.engine, self.clock())
        except Exception:  # never keep the worker from starting
            log.exception("worker %s: could not queue the periodic jobs", self.worker_id)
        while not self._stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # database briefly away: log, wait, try again
                log.exception("worker %s: poll failed", self.worker_id)
                claimed = 0
            if claimed < self.batch:  # queue drained: idle until the next poll
                self._stop.wait(self.poll_interval)

    def start(self) -> Worker:
        self._thread = threading.Thread(target=self.run_forever, name="servicepulse-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_worker_thread(engine: Engine, poll_interval: float = 1.0) -> Worker:
    """Start a daemon worker thread in this process (for `servicepulse serve`); call .stop() to end it."""
    return Worker(engine, poll_interval=poll_interval).start()
