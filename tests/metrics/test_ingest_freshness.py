"""The metric aggregate stays current when responses arrive through the API (both databases)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import repository as repo
from servicepulse.models import Response
from servicepulse.responses import aggregate
from tests.responses.conftest import api, api_key, build_world, response, settings, world  # noqa: F401


def _sums(engine, source: str, by: str | None = None) -> pd.DataFrame:
    with UnitOfWork(engine, readonly=True) as s:
        return repo.metric_sums(s, by=by, source=source)


def test_an_ingested_response_on_an_aggregated_day_changes_the_metric(engine, api):  # noqa: F811
    assert api.post("/api/v1/responses", json=response("R-1", case="K-1")).status_code == 201
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s)
    before = _sums(engine, "daily")
    assert int(before["grade_n"].iloc[0]) == 1 and int(before["grade_sum"].iloc[0]) == 8

    # same day, a low grade; and one on a later day in a batch
    low = response("R-2", answers={"ces": 2, "grade": 3})
    later = response("R-3", submitted_at="2026-03-05T08:00:00+01:00", answers={"ces": 7, "grade": 10})
    assert api.post("/api/v1/responses", json=low).status_code == 201
    assert api.post("/api/v1/responses", json=[later]).status_code == 201

    with UnitOfWork(engine, readonly=True) as s:
        assert repo.has_daily_counts(s)  # "auto" keeps using the aggregate ...
        auto = repo.metric_sums(s)
    after = _sums(engine, "daily")
    assert int(after["grade_n"].iloc[0]) == 3 and int(after["grade_sum"].iloc[0]) == 8 + 3 + 10
    # ... and every figure by every dimension equals the raw tables
    for by in (None, "journey", "team", "channel", "period"):
        pd.testing.assert_frame_equal(_sums(engine, "raw", by), _sums(engine, "daily", by), check_dtype=False)
    pd.testing.assert_frame_equal(auto, _sums(engine, "raw"), check_dtype=False)

    # taking a response back (as the survey page does before overwriting one) and adding it again
    with UnitOfWork(engine) as s:
        rid = s.scalar(select(Response.id).where(Response.external_id == "R-2"))
        assert aggregate.add_to_daily_counts(s, [rid], -1) > 0
        assert int(repo.metric_sums(s, source="daily")["grade_n"].iloc[0]) == 2
        aggregate.add_to_daily_counts(s, [rid], 1)
    pd.testing.assert_frame_equal(_sums(engine, "raw"), _sums(engine, "daily"), check_dtype=False)
    # a full rebuild folds the delta rows in and gives the same figures
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s)
    pd.testing.assert_frame_equal(after, _sums(engine, "daily"), check_dtype=False)


def test_nothing_is_written_while_the_aggregate_was_never_built(engine, api):  # noqa: F811
    assert api.post("/api/v1/responses", json=response("R-1")).status_code == 201
    with UnitOfWork(engine, readonly=True) as s:
        assert not repo.has_daily_counts(s)
