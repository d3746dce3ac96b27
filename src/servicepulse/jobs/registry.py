"""Job handlers by kind, as installed by the edge from servicepulse/registry.py. A handler runs inside the
job's own unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class JobContext:
    """What a handler may know about its run: the (controllable) clock and the attempt number."""

    job_id: int
    kind: str
    attempt: int  # 1 on the first run
    max_attempts: int
    now: datetime
    engine: Engine

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


class Handler(Protocol):
    def __call__(self, session: Session, payload: dict, ctx: JobContext) -> None: ...


class RetryLater(Exception):
    """Raised by a handler that wants to run again after `delay_seconds` (counts as an attempt)."""

    def __init__(self, message: str, delay_seconds: float | None = None):
        super().__init__(message)
        self.delay_seconds = delay_seconds


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the job is marked failed at once."""


_handlers: dict[str, Handler] = {}
_periodic: dict[str, timedelta] = {}


class NoHandlersInstalled(RuntimeError):
    """Jobs were run before the edge installed the registry's handlers."""


def install(handlers: Mapping[str, Handler], periodic: Mapping[str, timedelta] | None = None) -> None:
    """Make job kinds runnable: called by the edges that run jobs (the app, the CLI) with the table in
    servicepulse/registry.py, and by tests with handlers of their own. Periodic kinds are queued when a
    worker starts; each run queues the next."""
    for kind, fn in handlers.items():
        existing = _handlers.get(kind)
        if existing is not None and existing is not fn and _qualname(existing) != _qualname(fn):
            raise ValueError(f"job kind {kind!r} already has a handler: {_qualname(existing)}")
        _handlers[kind] = fn
    _periodic.update(periodic or {})


def handler_for(kind: str) -> Handler | None:
    if not _handlers:
        raise NoHandlersInstalled("no job handlers are installed: call servicepulse.registry.install_job_handlers() "
                                  "before running jobs")
    return _handlers.get(kind)


def installed_kinds() -> list[str]:
    return sorted(_handlers)


def periodic_kinds() -> dict[str, timedelta]:
    return dict(_periodic)


def _qualname(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
