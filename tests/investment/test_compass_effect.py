"""The investment compass's expected effect in NPS points and grade points: on the small demo its slopes equal
an independent regression on the demo's generated answers, its interval's standard error agrees with a pairs
bootstrap of that regression, and the page and CSV label the unit. SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse import metrics
from servicepulse.db.session import UnitOfWork
from servicepulse.demo.catalogue import JOURNEYS
from servicepulse.demo.generate import generate
from servicepulse.investment import compass, effect
from servicepulse.investment.service import contact_analysis, effect_slopes
from servicepulse.settings import Settings


def _independent(data, journey, outcome: str):
    """(design, y) of one journey from the generated answers: complete moment grades, the outcome as points."""
    grades = data.moment_grades.pivot_table(index="response", columns="moment", values="grade")
    cols = [m.key for m in journey.moments]
    rows = np.flatnonzero(data.responses["journey"] == journey.key)
    frame = grades.loc[grades.index.isin(rows), cols].dropna()
    raw = data.responses[outcome].astype(float).loc[frame.index].to_numpy()
    if outcome == "nps":  # a promoter counts +100, a detractor -100: the mean is the NPS
        y = 100.0 * (raw >= 9) - 100.0 * (raw <= 6)
    else:
        y = raw
    return cols, np.column_stack([np.ones(len(frame)), frame.to_numpy(dtype=float)]), y


@pytest.mark.demo("small", 2026)
@pytest.mark.parametrize("outcome", ["nps", "grade"])
def test_effect_slopes_and_intervals_match_an_independent_computation(engine, outcome):
    settings = Settings()
    with UnitOfWork(engine, readonly=True) as s:
        analysis = contact_analysis(s, settings)
        facts, _ = metrics.moment_facts(s, outcome="nps")
        slopes = effect_slopes(s, analysis.moments, outcome)
        rows = compass.compass(facts, analysis.moments, analysis.events, "en", slopes=slopes, measure=outcome)
    by_key = {r.key: r for r in rows}
    data = generate("small", 2026)
    rng = np.random.default_rng(7)
    checked = 0
    for journey in JOURNEYS:
        cols, x, y = _independent(data, journey, outcome)
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        # a pairs bootstrap of the same regression: an independent estimate of the slopes' standard errors
        boot = np.empty((600, len(cols)))
        for b in range(len(boot)):
            pick = rng.integers(0, len(y), len(y))
            boot[b] = np.linalg.lstsq(x[pick], y[pick], rcond=None)[0][1:]
        boot_se = boot.std(axis=0, ddof=1)
        for i, key in enumerate(cols):
            row = by_key[key]
            assert row.effect_slope is not None, key
            assert row.effect_slope.slope == pytest.approx(beta[i + 1], abs=1e-6), key
            assert row.effect_slope.n == len(y)
            assert row.effect_slope.se == pytest.approx(boot_se[i], rel=0.12), key
            if row.target is not None:
                points = row.target - row.score
                assert row.effect == pytest.approx(beta[i + 1] * points, abs=1e-6)
                half = 1.959964 * boot_se[i] * abs(points)
                assert row.effect_low == pytest.approx(row.effect - half, abs=0.12 * half + 1e-9)
                assert row.effect_high == pytest.approx(row.effect + half, abs=0.12 * half + 1e-9)
                checked += 1
    assert checked >= 3  # the demo's fix-the-basics and under-invested moments
    # the under-invested moments of truth move the NPS by whole points, not by tenths of a 0-10 score
    if outcome == "nps":
        assert all(by_key[k].effect > 1.0 for k in ("waiting_engineer", "switchover_day", "waiting_activation"))


def test_hc3_standard_error_on_a_hand_made_regression():
    """Known data: the HC3 standard error equals its textbook formula computed by hand (in loops)."""
    x = np.column_stack([np.ones(6), [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]])
    y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 9.0])
    coef, se = effect.hc3_ols(x, y)
    xtx_inv = np.linalg.inv(x.T @ x)
    b = xtx_inv @ x.T @ y
    meat = np.zeros((2, 2))
    for i in range(6):
        h = x[i] @ xtx_inv @ x[i]
        e = y[i] - x[i] @ b
        meat += np.outer(x[i], x[i]) * (e / (1 - h)) ** 2
    assert coef == pytest.approx(b)
    assert se == pytest.approx(np.sqrt(np.diag(xtx_inv @ meat @ xtx_inv)))
    assert effect.effect_interval(effect.Slope(2.0, 0.5, 6), -1.5) == pytest.approx(
        (-3.0, -3.0 - 1.959964 * 0.75, -3.0 + 1.959964 * 0.75))
    nps = effect.outcome_values(pd.Series([10.0, 9.0, 8.0, 7.0, 6.0, 0.0]), "nps")
    assert nps.tolist() == [100.0, 100.0, 0.0, 0.0, -100.0, -100.0]
