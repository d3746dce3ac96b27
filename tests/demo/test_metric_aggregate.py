"""The demo builds the metric aggregate, so the dashboard reads it from the first page (both databases)."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.after_load import build_metric_aggregate
from servicepulse.metrics import repository as repo
from servicepulse.models import ScoreDailyCount
from servicepulse.responses import days_with_deltas


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_the_demo_aggregate_is_built_and_gives_the_raw_figures(engine):
    rows = build_metric_aggregate(engine)
    with UnitOfWork(engine, readonly=True) as s:
        assert rows == s.scalar(select(func.count()).select_from(ScoreDailyCount)) > 0
        assert repo.has_daily_counts(s) and days_with_deltas(s) == []
        for by in (None, "journey", "moment", "period"):
            pd.testing.assert_frame_equal(repo.metric_sums(s, by=by, source="raw"),
                                          repo.metric_sums(s, by=by, source="daily"), check_dtype=False)
        journey = int(repo.journeys(s)[0].id)
        f = repo.MetricFilter(journey_id=journey)
        pd.testing.assert_frame_equal(repo.moment_sums(s, f, source="raw"), repo.moment_sums(s, f, source="daily"))
    assert build_metric_aggregate(engine) == 0  # a second run finds nothing to fold
