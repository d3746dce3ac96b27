"""Issue #14: every conclusion on the demo agrees with the data the generator put in (demo/effects.py)
and with the other pages (both databases; the small demo is shared per run and backend)."""

from __future__ import annotations

from datetime import date

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.effects import NEGATIVE_DRIVERS, NPS_DRIVER_RANKING
from servicepulse.metrics import repository as repo
from servicepulse.metrics import service
from servicepulse.web.home import journey_overview

FREQUENT = 0.10  # a cause that hits at least this share of cases is frequent


def test_frequent_strong_harmful_causes_are_priority_never_strength(demo_engine, generated):
    with UnitOfWork(demo_engine, readonly=True) as s:
        analysis = service.key_drivers(s, include="case", outcome="nps", language="en")
    assert analysis.ok, analysis.message
    table = analysis.table
    prevalence = generated.drivers.reindex(generated.responses["case"]).mean()
    strong_and_frequent = [d for d in NPS_DRIVER_RANKING if prevalence[d] >= FREQUENT]
    assert len(strong_and_frequent) == 4  # all four strongest causes hit more than one case in ten
    for driver in strong_and_frequent:
        assert table.loc[driver, "direction"] == "harmful"
        assert table.loc[driver, "prevalence"] == pytest.approx(prevalence[driver])
        assert table.loc[driver, "quadrant"] == "priority", (driver, table.loc[driver].to_dict())
    assert not (table.loc[list(NEGATIVE_DRIVERS), "quadrant"] == "strength").any()
    # performance means "good" upwards: a harmful fact performs by how rarely it happens
    for driver in NEGATIVE_DRIVERS:
        assert table.loc[driver, "performance"] == pytest.approx(1 - table.loc[driver, "prevalence"])


def test_no_factor_without_corrected_significance_is_priority(demo_engine):
    with UnitOfWork(demo_engine, readonly=True) as s:
        journeys = repo.journeys(s)
        analyses = [service.key_drivers(s, include="case", language="en")]
        analyses += [service.key_drivers(s, repo.MetricFilter(journey_id=j.id), include=include, language="en")
                     for j in journeys for include in ("moments", "all")]
    seen_insignificant = 0
    for analysis in analyses:
        assert analysis.ok, analysis.message
        assert analysis.correction == "holm"
        t = analysis.table
        assert (t["p_adjusted"] >= t["p_value"] - 1e-12).all()
        insignificant = t[t["p_adjusted"] >= 0.05]
        seen_insignificant += len(insignificant)
        assert not (insignificant["quadrant"] == "priority").any(), insignificant
        assert (insignificant["quadrant"] == "not_significant").all()
        assert insignificant["note"].str.len().gt(0).all()  # and they say so
        # collinearity: a partial slope against the factor's direction is never shown without its explanation
        against = t[t["against_direction"]]
        assert against["note"].str.contains("alone|los").all(), against
        assert not against["quadrant"].isin(["priority", "strength"]).any()
    assert seen_insignificant > 0  # the demo has such factors (e.g. a channel switch, once the others are known)


def test_every_moment_below_7_is_fix_the_basics(demo_engine):
    with UnitOfWork(demo_engine, readonly=True) as s:
        rows = [m for j in repo.journeys(s) for m in service.moment_view(s, j.id, language="en").moments]
    below = [m for m in rows if m.score.mean is not None and m.score.mean < 7]
    assert any(m.kind == "emotional" for m in below)  # e.g. waiting for the engineer at 4.9
    for m in below:
        assert m.status.code == "fix_basics", (m.key, m.kind, m.score.mean, m.status.code)


def test_home_counts_every_answer_grading_a_moment(demo_engine, generated):
    grades = generated.moment_grades
    expected = grades.groupby(["journey", "moment"]).size()
    with UnitOfWork(demo_engine, readonly=True) as s:
        shown = {(j.key, m.key): m.responses for j in journey_overview(s, "en") for m in j.moments}
        ids = {(j.key, m.key): m.id for j in repo.journeys(s) for m in repo.moments(s, j.id)}
        views = {(j.key, m.key): m.n for j in repo.journeys(s) for m in service.moment_view(s, j.id).moments}
        by_moment = {r.key: r for r in service.metrics(s, by="moment", language="en")}  # GET /metrics?by=moment
        by_journey = {r.key: r.figures.responses for r in service.metrics(s, by="journey", language="en")}
    assert len(shown) == 23
    for key, n in expected.items():
        assert shown[key] == n, key
        assert views[key] == n, key  # the moment pages agree with the home page
        assert by_moment[ids[key]].figures.responses == n, key  # and the API
        assert by_moment[ids[key]].figures.grade.n == n, key
        # the demo's surveys are journey surveys: their overall NPS counts for the journey, not for a moment
        assert by_moment[ids[key]].figures.nps.n == 0, key
    per_journey = generated.responses.groupby("journey").size()
    journey_ids = {j.key: j.id for j in repo.journeys(s)}
    for key, n in per_journey.items():
        assert by_journey[journey_ids[key]] == n, key
    assert all(n > 0 for n in shown.values())
    assert ids  # every moment has an id


def test_running_month_is_incomplete_and_left_out_of_changes(demo_engine):
    today = date(2026, 10, 20)  # the demo's last month, October 2026, is then still running
    with UnitOfWork(demo_engine, readonly=True) as s:
        view = service.overview(s, period="month", language="en", today=today)
        month = service.overview(s, service.month_filter("2026-10"), language="en", today=today)
    assert view.trend[-1].key == "2026-10-01" and view.trend[-1].complete is False
    assert all(r.complete for r in view.trend[:-1])
    assert view.running is True
    # the change compares the last two complete months, not the running one
    assert view.current_span == (date(2026, 9, 1), date(2026, 10, 1))
    assert view.previous_span == (date(2026, 8, 1), date(2026, 9, 1))
    # a month that is still running compares the same number of days of the month before
    assert month.current_span == (date(2026, 10, 1), date(2026, 10, 20))
    assert month.previous_span == (date(2026, 9, 1), date(2026, 9, 20))
    assert month.running is True
    # the monthly report defaults to the last complete month
    assert service.last_complete_month(date(2026, 10, 31), today) == "2026-09"
    assert service.last_complete_month(date(2026, 10, 31), date(2026, 12, 7)) == "2026-10"
