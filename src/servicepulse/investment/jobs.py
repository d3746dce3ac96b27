"""Job of the investment pages: keep the per-process frame of cost and avoidable contact warm.

Pricing and classifying every stored event takes seconds on a large history (`service.contact_analysis`
keeps the result per process, keyed by a fingerprint of the data). This job runs every ``WARM_EVERY`` in the
worker and asks for the frame: unchanged data cost one fingerprint query; new, changed or erased data are
computed here, so the next visitor of /investment (or the department report) does not wait for them. The
worker runs inside the web server's process (`servicepulse serve`), so that is the cache the pages read; a
separate worker process (`servicepulse worker`) warms only its own. Listed in servicepulse/registry.py
JOB_HANDLERS and PERIODIC_JOBS.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from sqlalchemy.orm import Session

from servicepulse.investment import service
from servicepulse.jobs.periodic import schedule_next
from servicepulse.jobs.registry import JobContext
from servicepulse.settings import get_settings

WARM_CACHE_JOB = "investment.warm_cache"
WARM_EVERY = timedelta(minutes=5)
# The worker starts the chain on a quarter-hour slot (registry.PERIODIC_JOBS), so a restart within the
# quarter never doubles it; from then on it runs every WARM_EVERY on aligned slots.
WARM_START = timedelta(minutes=15)
log = logging.getLogger(__name__)


def warm_cache(session: Session, payload: dict, ctx: JobContext) -> None:
    started = time.perf_counter()
    computed = service.warm(session, get_settings())
    if computed:
        log.info("investment: contact analysis recomputed in %.1f s", time.perf_counter() - started)
    schedule_next(session, WARM_CACHE_JOB, ctx.now, every=WARM_EVERY)
