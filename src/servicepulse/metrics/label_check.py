"""The PRCA label check of the moment view, bounded and remembered for a while.

The check needs row-level grades; over a long window at tens of millions of
responses that is millions of rows. It runs on the newest ``PRCA_SAMPLE``
complete answers of the window instead (the page says so), and a result is
kept for ``CACHE_SECONDS`` per database, journey, window, outcome and the
window's per-moment figures and the newest response id: a new answer or a
changed moment grade gives a new key. (An overwritten overall score with
unchanged grades is seen once the result expires.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.kernels import statistics
from servicepulse.kernels.statistics import AnalyticsInputError
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Response

PRCA_SAMPLE = 20_000  # complete answers, newest first: ample for the check (it needs 2 x moments + 2), bounded work
CACHE_SECONDS = 600.0
CACHE_SIZE = 256


@dataclass(frozen=True)
class LabelCheckRun:
    n: int  # complete answers the check ran on
    sampled: bool  # the newest PRCA_SAMPLE of more: not every complete answer of the window
    result: statistics.PrcaResult | None = None
    too_few: bool = False  # fewer complete answers than the check needs
    error: str | None = None  # why the check could not run


_cache: dict[tuple, tuple[float, LabelCheckRun]] = {}
_lock = threading.Lock()


def run_label_check(session: Session, f: MetricFilter, keys: list[str], outcome: str, *, min_n: int, alpha: float,
                    fingerprint: tuple) -> LabelCheckRun:
    """PRCA of ``outcome`` on the moment grades ``keys`` over the newest complete answers of the window.

    ``fingerprint``: the window's per-moment figures (from the aggregate), part of the cache key.
    """
    newest = session.scalar(select(func.max(Response.id)))
    key = (str(session.get_bind().url), f, tuple(keys), outcome, min_n, alpha, PRCA_SAMPLE, newest, fingerprint)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    run = _run(session, f, keys, outcome, min_n, alpha)
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            for old in [k for k, (at, _) in _cache.items() if now - at >= CACHE_SECONDS] or list(_cache)[:1]:
                _cache.pop(old, None)
        _cache[key] = (now, run)
    return run


def _run(session: Session, f: MetricFilter, keys: list[str], outcome: str, min_n: int, alpha: float) -> LabelCheckRun:
    data = repo.recent_complete_grades(session, f, keys, outcome, PRCA_SAMPLE) if keys else pd.DataFrame()
    n, sampled = len(data), len(data) >= PRCA_SAMPLE
    if n < max(min_n, 2 * len(keys) + 2):
        return LabelCheckRun(n, sampled, too_few=True)
    try:
        return LabelCheckRun(n, sampled, result=statistics.prca(data[keys], data[outcome].astype(float), alpha=alpha))
    except AnalyticsInputError as exc:
        return LabelCheckRun(n, sampled, error=str(exc))
