"""SQL aggregates against pandas on the same rows, raw table against the daily aggregate, both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import Response, ScoreDailyCount
from servicepulse.responses import aggregate

from .conftest import build_small


def expected_sums(frame: pd.DataFrame) -> dict:
    """The figure sums computed with pandas, independently of the SQL."""
    nps, grade, ces, csat = (frame[c].dropna() for c in ("nps", "grade", "ces", "csat"))
    return {
        "responses": len(frame), "nps_n": len(nps), "detractors": int((nps <= 6).sum()),
        "passives": int(nps.between(7, 8).sum()), "promoters": int((nps >= 9).sum()),
        "grade_n": len(grade), "grade_sum": int(grade.sum()), "grade_sq": int((grade ** 2).sum()),
        "grade_7": int((grade >= 7).sum()), "grade_9": int((grade >= 9).sum()),
        "csat_n": len(csat), "csat_top2": int((csat >= 4).sum()),
        "ces_n": len(ces), "ces_sum": int(ces.sum()), "ces_sq": int((ces ** 2).sum()), "ces_easy": int((ces >= 5).sum()),
    }


def bucket(ts: pd.Series, period: str) -> pd.Series:
    days = pd.to_datetime(ts, utc=True).dt.tz_convert("UTC").dt.normalize()
    if period == "week":
        days = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    elif period == "month":
        days = days - pd.to_timedelta(days.dt.day - 1, unit="D")
    return days.dt.strftime("%Y-%m-%d")


def sums_by(frame: pd.DataFrame, key: pd.Series) -> dict:
    return {k: expected_sums(g) for k, g in frame.groupby(key, dropna=False)}


@pytest.mark.parametrize("source", ["raw", "daily"])
def test_sums_by_every_dimension_match_pandas(engine, small, source):
    frame = small.frame
    with UnitOfWork(engine) as s:
        if source == "daily":
            assert aggregate.refresh_daily_counts(s) > 0
    with UnitOfWork(engine, readonly=True) as s:
        whole = repo.metric_sums(s, source=source).iloc[0].to_dict()
        assert whole == expected_sums(frame)
        keys = {"channel": frame["channel"], "team": frame["team"], "segment": frame["segment"],
                "moment": frame["moment_id"], "journey": pd.Series(small.journey_id, index=frame.index)}
        for period in ("day", "week", "month"):
            keys[f"period:{period}"] = bucket(frame["submitted_at"], period)
        for name, key in keys.items():
            by, _, period = name.partition(":")
            got = repo.metric_sums(s, by=by, period=period or "month", source=source)
            got_map = {(None if pd.isna(k) else k): row.drop("key").to_dict() for k, (_, row) in
                       zip(got["key"], got.iterrows())}
            want = {(None if pd.isna(k) else k): v for k, v in sums_by(frame, key).items()}
            assert got_map == want, name


def test_filters_and_utc_day_edges(engine, small):
    frame = small.frame
    t = pd.to_datetime(frame["submitted_at"], utc=True)
    f = MetricFilter(channel="sms", team_id=small.team_ids["a"], segment="consumer",
                     date_from=date(2026, 2, 1), date_to=date(2026, 3, 1))
    keep = ((frame["channel"] == "sms") & (frame["team"] == small.team_ids["a"]) & (frame["segment"] == "consumer")
            & (t >= pd.Timestamp("2026-02-01", tz="UTC")) & (t < pd.Timestamp("2026-03-01", tz="UTC")))
    assert keep.sum() > 5
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s)
        for source in ("raw", "daily"):
            assert repo.metric_sums(s, f, source=source).iloc[0].to_dict() == expected_sums(frame[keep]), source


def test_moment_sums_and_distribution(engine, small):
    frame = small.frame
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s)
        for source in ("raw", "daily"):
            got = repo.moment_sums(s, MetricFilter(journey_id=small.journey_id), source=source)
            for key, mid in small.moment_ids.items():
                values = frame[f"m_{key}"].dropna()
                assert got.loc[mid, "grade_n"] == len(values)
                assert got.loc[mid, "grade_sum"] == pytest.approx(values.sum())
                assert got.loc[mid, "grade_sq"] == pytest.approx((values ** 2).sum())
                assert got.loc[mid, "grade_9"] == (values >= 9).sum()
            dist = repo.score_distribution(s, "nps", source=source)
            assert dist == {int(k): int(v) for k, v in frame["nps"].dropna().value_counts().items()}


def test_period_buckets_at_week_and_month_edges(engine, small):
    """Sunday 23:59 UTC belongs to the week of the Monday before; 1 March 00:00 to March."""
    with UnitOfWork(engine) as s:
        version = s.query(Response.survey_version_id).first()[0]
        for at in (datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 3, 2, 0, 0, tzinfo=UTC)):
            s.add(Response(survey_version_id=version, submitted_at=at, nps=10, channel="edge"))
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s, date(2026, 3, 1), date(2026, 3, 3))
        for source in ("raw", "daily"):
            weeks = repo.metric_sums(s, MetricFilter(channel="edge"), by="period", period="week", source=source)
            assert dict(zip(weeks["key"], weeks["responses"])) == {"2026-02-23": 1, "2026-03-02": 1}
            months = repo.metric_sums(s, MetricFilter(channel="edge"), by="period", period="month", source=source)
            assert dict(zip(months["key"], months["responses"])) == {"2026-03-01": 2}


def test_refresh_of_a_day_range_leaves_other_days(engine, small):
    with UnitOfWork(engine) as s:
        total = aggregate.refresh_daily_counts(s)
        before = s.query(ScoreDailyCount).count()
        assert total == before
        window = aggregate.refresh_daily_counts(s, date(2026, 2, 1), date(2026, 2, 8))
        assert 0 < window < before
        assert s.query(ScoreDailyCount).count() == before
        whole = repo.metric_sums(s, source="daily").iloc[0].to_dict()
        assert whole == expected_sums(small.frame)


def test_empty_database_gives_zero_sums(engine):
    with UnitOfWork(engine) as s:
        row = repo.metric_sums(s, source="raw")
        assert row.iloc[0].to_dict() == {c: 0 for c in repo.FIGURE_COLUMNS}
        assert repo.metric_sums(s, by="period", source="raw").empty


def test_list_responses_pages_newest_first(engine, small):
    frame = small.frame
    with UnitOfWork(engine) as s:
        total, page1 = repo.list_responses(s, MetricFilter(), graded_moment_id=small.moment_ids["visit"], limit=20)
        _, page2 = repo.list_responses(s, MetricFilter(), graded_moment_id=small.moment_ids["visit"], limit=20,
                                       offset=20)
    graded = frame[frame["m_visit"].notna()].sort_values(["submitted_at", "id"], ascending=False)
    assert total == len(graded)
    assert [r["id"] for r in page1 + page2] == graded["id"].head(40).tolist()
    assert [r["moment_grade"] for r in page1] == graded["m_visit"].head(20).tolist()


def test_build_is_deterministic(engine):
    a = build_small(engine, n=5, seed=1).frame
    assert len(a) == 5
    assert timedelta(0) <= a["submitted_at"].max() - a["submitted_at"].min()


@pytest.mark.parametrize("f, by, period, grain", [
    (MetricFilter(date_from=date(2026, 2, 1), date_to=date(2026, 4, 1)), "journey", "month", 2),
    (MetricFilter(date_from=date(2026, 2, 3), date_to=date(2026, 4, 1)), "period", "month", 1),
    (MetricFilter(date_from=date(2026, 2, 1), date_to=date(2026, 4, 1)), "period", "week", 1),
    (MetricFilter(segment="business"), None, "month", 0),
    # spans off month boundaries: whole months from the month roll-up, the days around them from the day roll-up
    (MetricFilter(date_from=date(2026, 1, 20), date_to=date(2026, 4, 10)), "journey", "month", 1),
    (MetricFilter(date_from=date(2026, 1, 20), date_to=date(2026, 4, 10)), None, "month", 1),
    (MetricFilter(date_to=date(2026, 3, 15)), "moment", "month", 1),
    (MetricFilter(date_from=date(2026, 2, 10)), None, "month", 1),
    (MetricFilter(date_from=date(2026, 2, 3), date_to=date(2026, 2, 20)), None, "month", 1),
])
def test_each_rollup_gives_the_raw_figures(engine, small, f, by, period, grain):
    assert repo.choose_grain(f, by, period) == grain
    with UnitOfWork(engine) as s:
        aggregate.refresh_daily_counts(s)
        raw = repo.metric_sums(s, f, by=by, period=period, source="raw")
        daily = repo.metric_sums(s, f, by=by, period=period, source="daily")
        pd.testing.assert_frame_equal(raw, daily, check_dtype=False)
        moments_raw = repo.moment_sums(s, f, source="raw").sort_index()
        pd.testing.assert_frame_equal(moments_raw, repo.moment_sums(s, f, source="daily").sort_index(),
                                      check_dtype=False)
        assert s.query(ScoreDailyCount).filter(ScoreDailyCount.grain == grain).count() > 0


def test_auto_source_falls_back_to_raw_when_the_aggregate_is_behind(engine, small):
    with UnitOfWork(engine) as s:
        assert not repo.has_daily_counts(s)
        aggregate.refresh_daily_counts(s)
        assert repo.has_daily_counts(s)
        version = s.query(Response.survey_version_id).first()[0]
        s.add(Response(survey_version_id=version, submitted_at=datetime(2027, 1, 5, tzinfo=UTC), nps=10))
        s.flush()
        assert not repo.has_daily_counts(s)
        assert repo.metric_sums(s).iloc[0]["responses"] == len(small.frame) + 1
