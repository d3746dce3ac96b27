"""Background jobs: a job table in the same database, handlers by kind, an in-process worker."""

from servicepulse.jobs.erasure import erase_job_references
from servicepulse.jobs.queue import backoff_seconds, claim, enqueue, run_pending
from servicepulse.jobs.registry import JobContext, PermanentFailure, RetryLater, install
from servicepulse.jobs.worker import Worker, start_worker_thread

__all__ = [
    "erase_job_references",
    "enqueue", "run_pending", "claim", "backoff_seconds", "install", "JobContext",
    "RetryLater", "PermanentFailure", "Worker", "start_worker_thread",
]
