"""The learned Customer Effort Index on the small demo: it must predict CES on held-out cases,
and no harmful case fact may get a weight that says it makes the case easier.

The AUC and correlation are recomputed here with scikit-learn / NumPy from the
returned held-out predictions and the CES answers read back from the database.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy import func, select

from servicepulse.cases import effort, facts_store
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.models import Response
from servicepulse.models.cases import CaseFacts, EffortModel


@pytest.mark.demo("small", 2026)  # the engine is a fresh copy of the small demo
def test_effort_index_predicts_ces_on_held_out_cases(engine):
    with UnitOfWork(engine) as s:
        facts_store.recompute_all(s)
        result = effort.train(s)
    with UnitOfWork(engine, readonly=True) as s:
        given = dict(s.execute(select(Response.case_id, Response.ces).where(
            Response.case_id.in_([int(i) for i in result.test_case_ids]), Response.ces.is_not(None))).all())
        model = s.scalar(select(EffortModel).where(EffortModel.active.is_(True)))
        stored = {k: model.validation[k] for k in ("auc_high_effort", "correlation", "n_test")}
        stored_weights = dict(zip(model.features, model.weights))
        n_scored = s.scalar(select(func.count()).select_from(CaseFacts).where(CaseFacts.effort_estimate.is_not(None)))
        n_facts = s.scalar(select(func.count()).select_from(CaseFacts))
        answered = s.execute(select(CaseFacts.effort_index, Response.ces).join(
            Response, Response.case_id == CaseFacts.case_id).where(Response.ces.is_not(None)).limit(200)).all()
    ces = np.array([given[int(i)] for i in result.test_case_ids], dtype=float)
    np.testing.assert_array_equal(ces, result.test_ces)  # the held-out answers are the stored ones
    auc = roc_auc_score(ces <= 3, -result.test_predicted_ces)
    corr = np.corrcoef(result.test_predicted_ces, ces)[0, 1]
    assert auc > 0.75, auc
    assert corr > 0.5, corr
    assert stored["auc_high_effort"] == pytest.approx(auc)
    assert stored["correlation"] == pytest.approx(corr)
    assert stored["n_test"] == len(ces) > 300
    assert n_scored == n_facts > 0  # every case gets an estimate
    # an answered case's index is its measured effort
    for index, answer in answered:
        assert index == pytest.approx((7 - answer) / 6 * 100)
    # more repeat contacts and longer silences mean more effort (lower CES), as the demo was made
    assert result.weights["repeat_contacts"] < 0 and result.weights["dark_period_hours"] < 0
    # no harmful fact lowers effort (unconstrained, inbound contacts and waiting on us got CES weights
    # of +0.48 and +0.72 here: more contacts and more waiting would have meant an easier case)
    assert stored_weights == pytest.approx(result.weights)
    assert {name for name, w in stored_weights.items() if w > 0} <= {"first_time_right"}
    assert stored_weights["first_time_right"] > 0


def test_training_without_answers_is_refused(engine):
    with UnitOfWork(engine) as s:
        with pytest.raises(ValidationFailed, match="too few cases"):
            effort.train(s)


HARMFUL = ("inbound_contacts", "repeat_contacts", "after_hours_contacts", "channel_switches", "handoffs",
           "front_to_back", "back_to_front", "ping_pong", "dark_period_hours", "reopenings",
           "waiting_on_customer_hours", "waiting_on_us_hours", "throughput_days", "broken_promises")


def _collinear_cases(n=1500, seed=7):
    """Cases where inbound contacts are one first contact plus the repeats (correlation ~0.95), and CES
    falls with repeats but, at the same number of repeats, rises a little with inbound contacts: a
    suppression effect that an unconstrained fit turns into 'more contacts = less effort'."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(0.0, index=pd.RangeIndex(n, name="case_id"), columns=list(effort.FEATURES))
    repeats = rng.poisson(1.2, n).astype(float)
    frame["repeat_contacts"] = repeats
    frame["inbound_contacts"] = 1 + repeats + rng.binomial(1, 0.15, n)
    frame["handoffs"] = rng.poisson(0.8, n)
    frame["first_time_right"] = (repeats == 0).astype(float)
    ces = (6.2 - 2.0 * np.log1p(repeats) + 0.8 * np.log1p(frame["inbound_contacts"])
           - 0.4 * np.log1p(frame["handoffs"]) + rng.normal(0, 0.5, n))
    frame["ces"] = np.clip(np.rint(ces), 1, 7)
    return frame


def test_a_harmful_fact_collinear_with_another_never_lowers_effort():
    from sklearn.linear_model import Ridge

    frame = _collinear_cases()
    assert np.corrcoef(frame["inbound_contacts"], frame["repeat_contacts"])[0, 1] > 0.9
    fitted = effort.fit(frame)
    weights = dict(zip(effort.FEATURES, fitted.weights))
    # the same standardised facts, fitted without the sign constraint, do say that contacts help
    z = (np.log1p(frame[list(effort.FEATURES)].to_numpy()) - fitted.mean) / fitted.scale
    free = dict(zip(effort.FEATURES, Ridge(alpha=1.0).fit(z, frame["ces"]).coef_))
    assert free["inbound_contacts"] > 0.1
    assert all(weights[name] <= 0 for name in HARMFUL), weights
    assert weights["inbound_contacts"] == pytest.approx(0, abs=1e-9)  # the bound holds it: no effect of its own, not the opposite one
    assert weights["repeat_contacts"] < 0 and weights["handoffs"] < 0
    assert weights["first_time_right"] >= 0
    # the constrained model still predicts the held-out answers
    assert fitted.validation["correlation"] > 0.6
    assert fitted.validation["mae"] < fitted.validation["mae_baseline"]


def test_signed_ridge_refuses_a_direction_that_is_not_a_sign():
    with pytest.raises(ValueError, match="one -1 or \\+1 per column"):
        effort.fit_signed_ridge(np.zeros((5, 2)), np.zeros(5), np.array([1.0, 0.0]))
