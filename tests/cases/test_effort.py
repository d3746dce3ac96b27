"""The learned Customer Effort Index on the small demo: it must predict CES on held-out cases.

The AUC and correlation are recomputed here with scikit-learn / NumPy from the
returned held-out predictions and the CES answers read back from the database.
"""

from __future__ import annotations

import numpy as np
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


def test_training_without_answers_is_refused(engine):
    with UnitOfWork(engine) as s:
        with pytest.raises(ValidationFailed, match="too few cases"):
            effort.train(s)
