"""`servicepulse demo` with SERVICEPULSE_ANALYTICS_URL set ends with a rebuild of the store (with a progress
line), so the store holds exactly what the main database holds and nothing waits in the outbox; run again on
the kept data, it leaves a filled store as it is."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from servicepulse.analytics_store import TABLES, open_store
from servicepulse.db.session import UnitOfWork
from servicepulse.models import AnalyticsOutbox

from ..cli.conftest import cli, url_of  # noqa: F401
from .conftest import differences


def test_the_demo_fills_the_store(cli, engine, analytics_url, tmp_path):  # noqa: F811
    run = cli(url_of(engine), "demo", "--no-serve", "--size", "tiny", "--seed", "3")
    assert run.code == 0, run.err
    said = " ".join(run.out.split())
    match = re.search(r"analytics store rebuilt: ([\d,]+) rows in (\d+) tables \(([\d,]+) changes recorded", said)
    assert match, said
    with UnitOfWork(engine, readonly=True) as s:
        main = {name: s.scalar(select(func.count()).select_from(r.table)) for name, r in TABLES.items()}
        waiting = s.scalar(select(func.count()).select_from(AnalyticsOutbox))
    assert int(match.group(1).replace(",", "")) == sum(main.values()) and int(match.group(2)) == len(TABLES)
    assert int(match.group(3).replace(",", "")) > 0 and waiting == 0  # the load's outbox entries shipped too
    assert "analytics store" in run.out  # the progress line
    store = open_store(analytics_url, tmp_path)
    try:
        assert differences(engine, store) == {}
        assert store.scalar("SELECT count() FROM case_events FINAL") == main["case_events"] > 1000
    finally:
        store.close()

    again = cli(url_of(engine), "demo", "--no-serve", "--size", "tiny")
    assert again.code == 0 and "analytics store kept; 0 waiting changes shipped" in " ".join(again.out.split())
    store = open_store(analytics_url, tmp_path)
    try:
        assert differences(engine, store) == {}
    finally:
        store.close()

