"""Job handlers by kind. A handler runs inside the job's own unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

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


_HANDLERS: dict[str, Handler] = {}


class RetryLater(Exception):
    """Raised by a handler that wants to run again after `delay_seconds` (counts as an attempt)."""

    def __init__(self, message: str, delay_seconds: float | None = None):
        super().__init__(message)
        self.delay_seconds = delay_seconds


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the job is marked failed at once."""


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register `fn(session, payload, ctx)` as the handler for jobs of `kind`."""

    def register(fn: Handler) -> Handler:
        existing = _HANDLERS.get(kind)
        if existing is not None and existing is not fn and _qualname(existing) != _qualname(fn):
            raise ValueError(f"job kind {kind!r} already has a handler: {_qualname(existing)}")
        _HANDLERS[kind] = fn
        return fn

    return register


def handler_for(kind: str) -> Handler | None:
    if kind not in _HANDLERS:
        load_handler_modules()
    return _HANDLERS.get(kind)


# Modules whose import registers @job_handler functions; imported on first need,
# so a worker knows every kind without the caller importing the domains.
HANDLER_MODULES = [
    "servicepulse.invitations.jobs",
    "servicepulse.responses.webhooks_out",
    "servicepulse.followups.jobs",
    "servicepulse.followups.notify",
    "servicepulse.verbatims.jobs",
    "servicepulse.expectations.jobs",
    "servicepulse.expectations.notify",
    "servicepulse.metrics.jobs",
]
_loaded = False


def load_handler_modules() -> None:
    global _loaded
    if _loaded:
        return
    import importlib
    import logging

    for module in HANDLER_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a domain that is not in this checkout (yet)
            if exc.name is None or not module.startswith(exc.name):
                raise
            logging.getLogger(__name__).debug("job handlers in %s not loaded: %s", module, exc)
    _loaded = True


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def _qualname(fn) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
