"""The investment compass: on the small demo it labels the moments the demo makes over-invested (a gold-plated,
costly functional moment well above 7) and under-invested (emotional moments of truth below their norm with a
real effect); its slopes, expected effects and costs per case equal an independent computation from the demo's
generated data. Plus the labelling rules on hand-made facts. SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from servicepulse import metrics
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import contacts as demo_contacts
from servicepulse.demo.catalogue import JOURNEYS
from servicepulse.demo.generate import generate
from servicepulse.investment import compass
from servicepulse.investment.effect import Slope
from servicepulse.investment.service import contact_analysis
from servicepulse.kernels.statistics import MomentFacts
from servicepulse.models import Moment
from servicepulse.settings import Settings


@pytest.mark.demo("small", 2026)
def test_compass_labels_the_demo_and_matches_an_independent_computation(engine):
    settings = Settings()
    with UnitOfWork(engine, readonly=True) as s:
        analysis = contact_analysis(s, settings)
        facts, _ = metrics.moment_facts(s, outcome="nps")
        rows = compass.compass(facts, analysis.moments, analysis.events, "en")  # no effect slopes given
        keys = dict(s.execute(select(Moment.id, Moment.key)).all())
    by_key = {r.key: r for r in rows}
    over = {r.key for r in rows if r.label == "over_invested"}
    assert over == set(demo_contacts.OVER_INVESTED)
    for key in demo_contacts.UNDER_INVESTED:
        assert by_key[key].label == "under_invested", key
    functional = {m.key for j in JOURNEYS for m in j.moments if m.kind == "functional"}
    assert {r.key for r in rows if r.label == "under_invested"}.isdisjoint(functional)

    data = generate("small", 2026)
    # the slopes: OLS of the recommendation score on the journey's moment grades, complete answers only
    grades = data.moment_grades.pivot_table(index="response", columns="moment", values="grade")
    nps = data.responses["nps"].astype(float)
    for journey in JOURNEYS:
        cols = [m.key for m in journey.moments]
        frame = grades.loc[grades.index.isin(np.flatnonzero(data.responses["journey"] == journey.key)), cols]
        frame = frame.dropna()
        x = np.column_stack([np.ones(len(frame)), frame.to_numpy(dtype=float)])
        beta, *_ = np.linalg.lstsq(x, nps.loc[frame.index].to_numpy(), rcond=None)
        for key, slope in zip(cols, beta[1:]):
            assert by_key[key].slope == pytest.approx(slope, abs=1e-6), key
            assert by_key[key].score == pytest.approx(data.moment_grades.loc[
                data.moment_grades["moment"] == key, "grade"].mean(), abs=1e-9)
    # the expected effect is told in NPS points (test_compass_effect.py checks its slope and interval)
    for r in rows:
        if r.target is not None:
            assert r.measure == "nps" and r.effect is None and r.effect_slope is None
    # cost per case at a moment: the demo's events priced independently, summed per case, averaged
    e = data.events
    pair = (e["channel"].fillna("") + "/" + e["direction"].fillna("")).to_numpy()
    default = np.where(e["customer_facing"].to_numpy(dtype=bool),
                       [settings.contact_costs.get(p, 0.0) for p in pair], 0.0)
    minutes = e["handling_minutes"].to_numpy(dtype=float)
    cost = pd.Series(np.where(np.isnan(minutes), default, minutes * settings.cost_per_minute), index=e.index)
    per_case = cost.groupby([e["moment"], e["case"]]).sum().groupby(level=0).mean()
    for key, expected in per_case.items():
        assert by_key[key].cost_per_case == pytest.approx(expected, rel=1e-9), key
        assert by_key[key].cost_low <= by_key[key].cost_per_case <= by_key[key].cost_high
    # the saving of an over-invested moment: its cost per case above the median moment's, over its cases
    median = float(np.median([r.cost_per_case for r in rows if r.cost_per_case is not None]))
    for key in demo_contacts.OVER_INVESTED:
        case_costs = cost[e["moment"] == key].groupby(e["case"][e["moment"] == key]).sum()
        assert by_key[key].saving == pytest.approx(np.maximum(case_costs - median, 0).sum(), rel=1e-9)
        assert by_key[key].saving_low <= by_key[key].saving <= by_key[key].saving_high
    assert set(keys.values()) >= set(by_key)
    # the improvement scan ranks the demo's projects by experience potential per euro when asked
    from servicepulse.improvement.service import scan

    with UnitOfWork(engine, readonly=True) as s:
        by_lift = scan(s, language="en")
        per_euro = scan(s, language="en", rank_by="per_euro")
    assert sorted(r.project_id for r in by_lift.rows) == sorted(r.project_id for r in per_euro.rows)
    values = [r.lift_per_1000 for r in per_euro.rows]
    costed = [v for v in values if v is not None]
    assert len(costed) >= 3 and costed == sorted(costed, reverse=True)
    assert values[:len(costed)] == costed  # projects without a cost come last
    assert [r.rank for r in per_euro.rows] == list(range(1, len(values) + 1))


def _facts(kind, score, slope=0.5, p=0.001, n=300, norm=None):
    return MomentFacts(name="m", kind=kind, score=score, n=n, norm=norm, slope=slope, p_value=p, se=0.1)


def test_labelling_rules_on_hand_made_moments():
    moments = pd.DataFrame({
        "key": ["f_low", "f_high_cheap", "f_high_dear", "e_low_impact", "e_low_no_impact", "e_ok", "few"],
        "journey_id": 1, "position": range(7),
        "kind": ["functional", "functional", "functional", "emotional", "emotional", "emotional", "functional"],
        "norm": [7.0, 7.0, 7.0, 9.0, 9.0, 9.0, 7.0], "department_id": None,
        "name_nl": "m", "name_en": "m"}, index=pd.Index(range(1, 8), name="moment_id"))
    facts = {1: _facts("functional", 6.4), 2: _facts("functional", 7.6), 3: _facts("functional", 7.6),
             4: _facts("emotional", 7.5), 5: _facts("emotional", 6.5, p=0.4), 6: _facts("emotional", 7.5, p=0.3),
             7: _facts("functional", None)}
    case_cost = {1: 5.0, 2: 2.0, 3: 40.0, 4: 6.0, 5: 6.0, 6: 6.0, 7: 1.0}
    events = pd.DataFrame([{"moment_id": m, "case_id": c, "cost": case_cost[m]} for m in case_cost
                           for c in range(20)])
    slopes = {1: Slope(12.0, 2.0, 300), 4: Slope(20.0, 5.0, 300)}  # NPS points per grade point
    rows = {r.key: r for r in compass.compass(facts, moments, events, slopes=slopes)}
    assert {k: r.label for k, r in rows.items()} == {
        "f_low": "fix_basics", "f_high_cheap": "keep", "f_high_dear": "over_invested",
        "e_low_impact": "under_invested", "e_low_no_impact": "fix_basics", "e_ok": "keep", "few": "unknown"}
    assert rows["f_low"].effect == pytest.approx(12.0 * (7.0 - 6.4))
    assert rows["f_low"].effect_low == pytest.approx(12.0 * 0.6 - 1.959964 * 2.0 * 0.6)
    assert rows["e_low_impact"].effect_high == pytest.approx(20.0 + 1.959964 * 5.0)
    assert rows["e_low_no_impact"].effect is None  # no slope of the measure: no effect shown
    assert rows["e_low_impact"].target == pytest.approx(8.5)  # one point more, up to the norm
    assert rows["f_high_dear"].saving == pytest.approx((40.0 - 6.0) * 20)  # above the median (6.0) per case


def test_below_seven_is_fix_the_basics_whatever_the_kind():
    # the home page and the moment view call every moment below 7 "below the basics": the compass agrees, even for
    # an emotional moment that clearly drives the score (it is under-invested only from 7 up to its norm)
    moments = pd.DataFrame({
        "key": ["e_low_impact", "e_mid_impact", "f_own_norm"], "journey_id": 1, "position": range(3),
        "kind": ["emotional", "emotional", "functional"], "norm": [9.0, 9.0, 8.0], "department_id": None,
        "name_nl": "m", "name_en": "m"}, index=pd.Index(range(1, 4), name="moment_id"))
    facts = {1: _facts("emotional", 6.2), 2: _facts("emotional", 7.2), 3: _facts("functional", 7.5, norm=8.0)}
    events = pd.DataFrame([{"moment_id": m, "case_id": c, "cost": 5.0} for m in (1, 2, 3) for c in range(20)])
    rows = {r.key: r for r in compass.compass(facts, moments, events)}
    assert rows["e_low_impact"].label == "fix_basics" and rows["e_low_impact"].target == pytest.approx(7.0)
    assert rows["e_mid_impact"].label == "under_invested" and rows["e_mid_impact"].target == pytest.approx(8.2)
    assert rows["f_own_norm"].label == "fix_basics" and rows["f_own_norm"].target == pytest.approx(8.0)
