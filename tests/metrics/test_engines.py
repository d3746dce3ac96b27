"""The read layer on every engine: the same query functions on the main database (SQLite, and PostgreSQL
when configured) and on ClickHouse (chDB, filled by the analytics store's rebuild) give identical figures.

Each test runs once per main-database backend (the `engine` fixture) against a chDB copy of that very
database, so SQLite = chDB and PostgreSQL = chDB, hence all three agree. Process statistics are also
checked against pm4py on the real Helpdesk log (../shared/data/eventlogs).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, update

from servicepulse.analytics_store import open_store, rebuild
from servicepulse.analytics_store.reader import ClickHouseReader, clickhouse_sql, raw_reader, use_store
from servicepulse.db.session import UnitOfWork
from servicepulse.demo.after_load import analyse_verbatims
from servicepulse.journeys import analytics
from servicepulse.journeys.process_repository import ProcessFilter, process_stats
from servicepulse.metrics import repository as repo
from servicepulse.models import Case, Customer, Journey, Moment, OrgUnit, Response, Verbatim
from servicepulse.verbatims import repository as vrepo

DEMO = pytest.mark.demo("tiny", 11)
TRICKY = "Wachtte op C:\\map\\ en 'n monteur: 100%_ klaar"  # backslashes, quotes and LIKE wildcards
HELPDESK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"
F = repo.MetricFilter
V = vrepo.VerbatimFilter


@pytest.fixture
def engines(engine, tmp_path):
    """(main-database session, chDB reader) over the same rows."""
    assert analyse_verbatims(engine) > 0  # the comments, as the demo command analyses them after loading
    with UnitOfWork(engine) as s:  # one comment that SQL string literals must not mangle
        first = s.scalar(select(Verbatim.response_id).join(Response, Response.id == Verbatim.response_id)
                         .where(Response.completed.is_(True)).order_by(Verbatim.response_id))
        s.execute(update(Verbatim).where(Verbatim.response_id == first).values(text=TRICKY))
    store = open_store(f"chdb://{tmp_path / 'chdb'}", tmp_path)
    try:
        counts = rebuild(engine, store)
        assert counts["responses"] > 0 and counts["case_events"] > 0
        with UnitOfWork(engine, readonly=True) as s:
            yield s, ClickHouseReader(store.query_arrow)
    finally:
        store.close()


def both(engines, fn):
    main, ch = engines
    return fn(main), fn(ch)


def _plain(x):
    """NaN as None (NaN != NaN), recursively, so that equal answers compare equal."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x)
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def assert_same(pair):
    a, b = (_plain(x) for x in pair)
    assert a == b
    return a


def frame_dict(frame: pd.DataFrame) -> dict:
    return frame.sort_index().to_dict()


@DEMO
def test_metric_queries_identical(engines):
    session, _ = engines
    journey = session.scalar(select(Journey).order_by(Journey.id))
    moments = list(session.scalars(select(Moment).where(Moment.journey_id == journey.id).order_by(Moment.position)))
    team = session.scalar(select(Response.team_id).where(Response.team_id.is_not(None)).limit(1))
    segment = session.scalar(select(Customer.segment).where(Customer.segment.is_not(None)).limit(1))
    calls = [
        lambda x: repo.metric_sums(x, F(), source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(), by="period", period="day", source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(), by="period", period="week", source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(journey_id=journey.id), by="period", period="month", source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(segment=segment, date_from=date(2000, 1, 1)), by="team", source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(team_id=team, language="nl"), by="segment", source="raw").to_dict(),
        lambda x: repo.metric_sums(x, F(), by="channel", source="raw").to_dict(),
        lambda x: repo.moment_sums(x, F(journey_id=journey.id), source="raw").to_dict(),
        lambda x: repo.single_moment_sums(x, F()).to_dict(),
        lambda x: repo.score_distribution(x, "nps", F(), source="raw"),
        lambda x: repo.score_distribution(x, "grade", F(segment=segment), source="raw"),
        lambda x: repo.recent_complete_grades(x, F(journey_id=journey.id), [m.key for m in moments[:3]], "nps", 40,
                                              page=15).to_dict(),
        lambda x: frame_dict(repo.response_outcomes(x, F(journey_id=journey.id))),
        lambda x: frame_dict(repo.moment_grade_frame(x, F(journey_id=journey.id))),
        lambda x: repo.list_responses(x, F(segment=segment), limit=25, offset=3),
        lambda x: repo.list_responses(x, F(), graded_moment_id=moments[0].id, limit=25),
        lambda x: repo.list_responses(x, F(), limit=10, team_ids=frozenset({team})),
    ]
    for call in calls:
        got = assert_same(both(engines, call))
        assert got  # something was computed: an empty answer on every engine proves nothing
    sums = repo.metric_sums(session, F(), source="raw")
    assert int(sums["responses"].iloc[0]) == session.scalar(select(func.count()).where(Response.completed.is_(True)))


@DEMO
def test_comment_browser_and_search_identical(engines):
    session, _ = engines
    team = session.scalar(select(OrgUnit.id).where(OrgUnit.id.in_(select(Response.team_id))).limit(1))
    filters = [V(), V(sentiment="negative", nps_group="detractor"), V(language="nl"), V(team_ids=frozenset({team})),
               V(date_from=date(2000, 1, 1), date_to=date(2100, 1, 1)), V(search="MONTEUR"),
               V(search="map\\ en 'n"), V(search="100%_"), V(search="%"), V(search="_")]
    for f in filters:
        rows, total = assert_same(both(engines, lambda x, f=f: vrepo.browse(x, f, limit=30, offset=0)))
        assert total == len(rows) or len(rows) == 30
        if f in (V(), V(language="nl"), V(search="MONTEUR")):
            assert total > 0
    # the tricky comment is found by its backslashes and quote, and LIKE wildcards are plain characters
    for term in ("C:\\MAP\\", "'n monteur", "100%_"):
        rows, _ = vrepo.browse(session, V(search=term))
        assert TRICKY in [r["text"] for r in rows]
    assert vrepo.browse(session, V(search="100%x"))[1] == 0
    rows, _ = vrepo.browse(session, V(), limit=40)
    ids = [r["response_id"] for r in rows]
    assert_same(both(engines, lambda x: vrepo.mentions_for(x, ids)))


@DEMO
def test_process_statistics_identical(engines):
    session, ch = engines
    segment = session.scalar(select(Customer.segment).where(Customer.segment.is_not(None)).limit(1))
    team = session.scalar(select(Case.last_team_id).where(Case.last_team_id.is_not(None)).limit(1))
    for journey in session.scalars(select(Journey).order_by(Journey.id)):
        for f in (None, ProcessFilter(journey.id, segment=segment),
                  ProcessFilter(journey.id, date_from=date(2000, 1, 1), date_to=date(2100, 1, 1), team_id=team)):
            a, b = analytics.journey_view(session, journey, f), analytics.journey_view(ch, journey, f)
            assert (a.variants, a.n_variants, a.dfg, a.activities, a.starts) == \
                   (b.variants, b.n_variants, b.dfg, b.activities, b.starts)
            for x, y in [(a.total, b.total), *[(m.figures, n.figures) for m, n in zip(a.moments, b.moments)]]:
                # everything exact but the mean effort, a float sum whose order each engine picks
                assert {**x.__dict__, "effort_mean": None} == {**y.__dict__, "effort_mean": None}
                assert (x.effort_mean is None) == (y.effort_mean is None)
                assert x.effort_mean is None or math.isclose(x.effort_mean, y.effort_mean, rel_tol=1e-12)
            if f is None:
                assert a.total.cases > 0 and a.dfg


@DEMO
def test_pages_read_the_store_when_the_session_has_one(engines):
    """With the store set on the unit of work, raw-row queries read there: proved by a store that holds
    different rows from the main database (the main database changed after the rebuild)."""
    session, ch = engines
    before = repo.metric_sums(session, F(), source="raw")["responses"].iloc[0]
    session.info.pop("analytics_reader", None)
    use_store(session, ch.run)
    assert raw_reader(session) is session.info["analytics_reader"]
    session.execute(update(Response).values(completed=False))  # the main database now counts none
    assert repo.metric_sums(session, F(), source="raw")["responses"].iloc[0] == before
    session.info.pop("analytics_reader")
    assert repo.metric_sums(session, F(), source="raw").empty or \
        repo.metric_sums(session, F(), source="raw")["responses"].iloc[0] == 0
    session.rollback()


def test_clickhouse_literals_are_escaped():
    sql = clickhouse_sql(select(Verbatim.text).where(Verbatim.text == "a\\'; DROP TABLE x; --"))
    assert "'a\\\\\\'; DROP TABLE x; --'" in sql


# -- process statistics against pm4py on a real log ---------------------------------------------------

@pytest.fixture
def helpdesk_engines(engine, tmp_path):
    pm4py = pytest.importorskip("pm4py")
    if not HELPDESK.exists():
        pytest.skip(f"reference log not found at {HELPDESK}")
    from servicepulse.cases.service import ingest_events
    from servicepulse.kernels.eventlog import read_event_log

    with UnitOfWork(engine) as s:
        journey = Journey(key="helpdesk", name_nl="Helpdesk", name_en="Helpdesk")
        s.add(journey)
        s.flush()
        journey_id = journey.id
    with UnitOfWork(engine) as s:
        ingest_events(s, read_event_log(HELPDESK), notify=False)
        s.execute(update(Case).values(journey_id=journey_id))  # the log's one journey
    store = open_store(f"chdb://{tmp_path / 'chdb'}", tmp_path)
    try:
        rebuild(engine, store)
        with UnitOfWork(engine, readonly=True) as s:
            yield s, ClickHouseReader(store.query_arrow), journey_id, pm4py.read_xes(str(HELPDESK)), pm4py
    finally:
        store.close()


def test_process_statistics_equal_pm4py_on_helpdesk(helpdesk_engines):
    session, ch, journey_id, log, pm4py = helpdesk_engines
    keys = dict(case_id_key="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp")
    dfg, starts, _ = pm4py.discover_dfg(log, **keys)
    performance = pm4py.discover_performance_dfg(log, **keys)[0]
    variants = {tuple(k): int(v) for k, v in pm4py.get_variants(log, **keys).items()}
    hours = np.asarray(pm4py.get_all_case_durations(log, **keys), dtype=float) / 3600.0
    f = ProcessFilter(journey_id)
    for reader in (session, ch):
        stats = process_stats(reader, f)
        assert stats.events == len(log)
        assert {(a, b): c for a, b, c, _, _ in stats.arcs} == {k: int(v) for k, v in dfg.items()}
        assert dict(stats.variants) == variants
        assert stats.starts == {k: int(v) for k, v in starts.items()}
        for a, b, _, median, mean in stats.arcs:
            assert math.isclose(mean * 3600, performance[(a, b)]["mean"], rel_tol=1e-9)
            assert math.isclose(median * 3600, performance[(a, b)]["median"], rel_tol=1e-9, abs_tol=1e-6)
        view = analytics.journey_view(reader, session.get(Journey, journey_id))
        assert view.total.cases == len(hours)
        assert math.isclose(view.total.median_hours, float(np.percentile(hours, 50)), rel_tol=1e-9)
        assert math.isclose(view.total.p90_hours, float(np.percentile(hours, 90)), rel_tol=1e-9)
