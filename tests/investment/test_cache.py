"""The per-process cache of the contact analysis: the same figures as the direct computation for any period, and
never stale: a new event, an erased one, a kept promise or other settings give new figures, on SQLite and
PostgreSQL. (How much faster it is: bench/investment_pages.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, select

from servicepulse.db.session import UnitOfWork
from servicepulse.investment import service
from servicepulse.models import CaseEvent, Promise
from servicepulse.settings import Settings

PERIODS = [(None, None), (date(2026, 3, 1), None), (None, date(2026, 4, 1)), (date(2026, 3, 1), date(2026, 6, 1)),
           (date(2026, 3, 14), date(2026, 3, 15)), (date(2031, 1, 1), None)]


@pytest.fixture(autouse=True)
def _fresh_cache():
    service.clear_cache()
    yield
    service.clear_cache()


def _same(cached: service.ContactAnalysis, direct: service.ContactAnalysis) -> None:
    for name in ("events", "contacts"):
        mine = getattr(cached, name).reset_index(drop=True)
        theirs = getattr(direct, name).drop(columns=["attributes"]).reset_index(drop=True)
        assert list(mine.columns) == list(theirs.columns)
        pd.testing.assert_frame_equal(mine, theirs, check_dtype=not theirs.empty)
    assert service.totals(cached) == service.totals(direct)
    pd.testing.assert_frame_equal(service.reason_table(cached), service.reason_table(direct))


@pytest.mark.demo("small", 2026)
def test_every_period_from_the_cache_equals_the_direct_computation(engine):
    settings = Settings()
    with UnitOfWork(engine, readonly=True) as s:
        for start, end in PERIODS:
            _same(service.contact_analysis(s, settings, start, end),
                  service.compute_contact_analysis(s, settings, start, end))
        assert len(service._CACHE) == 1  # one frame of the whole history served every period
        entry = next(iter(service._CACHE.values()))
        service.contact_analysis(s, settings, date(2026, 5, 1), None)
        assert next(iter(service._CACHE.values())) is entry
        # other settings: other figures, not the cached ones
        dearer = Settings(cost_per_minute=settings.cost_per_minute * 2)
        doubled = service.totals(service.contact_analysis(s, dearer))
        assert doubled == service.totals(service.compute_contact_analysis(s, dearer))
        assert doubled["cost"] > service.totals(service.contact_analysis(s, settings))["cost"]
        assert len(service._CACHE) == 2


@pytest.mark.demo("small", 2026)
def test_a_new_event_an_erased_one_and_a_kept_promise_change_the_figures(engine):
    settings = Settings()
    with UnitOfWork(engine, readonly=True) as s:
        before = service.totals(service.contact_analysis(s, settings))
        month_before = service.monthly(service.contact_analysis(s, settings))
        last = s.scalars(select(CaseEvent).where(CaseEvent.direction == "inbound", CaseEvent.customer_facing)
                         .order_by(CaseEvent.occurred_at.desc()).limit(1)).one()
        case_id, at, moment_id = last.case_id, last.occurred_at, last.moment_id
    with UnitOfWork(engine) as s:  # the customer calls again, an hour after their last contact
        s.add(CaseEvent(case_id=case_id, occurred_at=at + timedelta(hours=1), seq=10_000, activity="Klant belt",
                        channel="phone", direction="inbound", customer_facing=True, moment_id=moment_id,
                        attributes={}))
    with UnitOfWork(engine, readonly=True) as s:
        after_analysis = service.contact_analysis(s, settings)
        after = service.totals(after_analysis)
        _same(after_analysis, service.compute_contact_analysis(s, settings))
        month_after = service.monthly(after_analysis)
    assert after["contacts"] == before["contacts"] + 1
    assert after["cost"] == pytest.approx(before["cost"] + settings.contact_costs["phone/inbound"])
    assert after["failure"] == before["failure"] + 1  # a contact within the repeat window of the previous one
    month = pd.Timestamp(at + timedelta(hours=1)).tz_convert(str(settings.zone())).strftime("%Y-%m")
    assert month_after.loc[month, "contacts"] == month_before.loc[month, "contacts"] + 1

    with UnitOfWork(engine) as s:  # erased again (SQLite may hand the same id to the next event)
        s.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq == 10_000))
    with UnitOfWork(engine, readonly=True) as s:
        assert service.totals(service.contact_analysis(s, settings)) == before

    with UnitOfWork(engine, readonly=True) as s:
        broken_before = service.reason_table(service.contact_analysis(s, settings)).loc["broken_promise", "contacts"]
    with UnitOfWork(engine) as s:  # every open promise kept when made: fewer broken promises to call about
        for promise in s.scalars(select(Promise).where(Promise.kept_at.is_(None))):
            promise.kept_at = promise.made_at
    with UnitOfWork(engine, readonly=True) as s:
        kept = service.contact_analysis(s, settings)
        _same(kept, service.compute_contact_analysis(s, settings))
    assert broken_before > 0
    assert service.reason_table(kept).loc["broken_promise", "contacts"] < broken_before


@pytest.mark.demo("small", 2026)
def test_the_warm_job_computes_after_new_data_and_the_page_reuses_it(engine):
    """The job investment.warm_cache: after a new event it computes the frame (and queues its next run); the
    next request finds that very frame; without new data the job computes nothing. A newly analysed comment
    (the chasing rule reads its themes) changes the fingerprint too."""
    from datetime import UTC, datetime

    from servicepulse.demo.after_load import analyse_verbatims
    from servicepulse.investment import jobs
    from servicepulse.jobs.registry import JobContext
    from servicepulse.models import Job

    settings = Settings()
    ctx = JobContext(job_id=1, kind=jobs.WARM_CACHE_JOB, attempt=1, max_attempts=3,
                     now=datetime(2026, 11, 1, 12, 1, tzinfo=UTC), engine=engine)
    with UnitOfWork(engine, readonly=True) as s:
        assert service.warm(s, settings) is True
        assert service.warm(s, settings) is False  # nothing new: nothing computed
        last = s.scalars(select(CaseEvent).order_by(CaseEvent.id.desc()).limit(1)).one()
        case_id, at = last.case_id, last.occurred_at
    with UnitOfWork(engine) as s:
        s.add(CaseEvent(case_id=case_id, occurred_at=at + timedelta(hours=1), seq=10_001, activity="Klant belt",
                        channel="phone", direction="inbound", customer_facing=True, attributes={}))
    with UnitOfWork(engine) as s:
        jobs.warm_cache(s, {}, ctx)
        queued = s.scalars(select(Job).where(Job.kind == jobs.WARM_CACHE_JOB)).all()
    assert len(queued) == 1 and queued[0].run_at.replace(tzinfo=UTC) == datetime(2026, 11, 1, 12, 5, tzinfo=UTC)
    warmed = list(service._CACHE.values())[-1]
    with UnitOfWork(engine, readonly=True) as s:
        assert service.warm(s, settings) is False
        analysis = service.contact_analysis(s, settings)
    assert list(service._CACHE.values())[-1] is warmed  # the page read the job's frame
    assert int(analysis.events["seq"].max()) == 10_001
    assert analyse_verbatims(engine) > 0
    with UnitOfWork(engine, readonly=True) as s:
        assert service.warm(s, settings) is True
