"""Model selection happens on the fit's own newest cases, never on the test period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import chronological_case_split, evaluate_protocol
from servicepulse.kernels.forecast.model import recency_weights, select_candidate, weighted_median

from .synthetic import FAST, make_log


def test_selection_rule_lowest_mae_with_ties_to_the_earlier_candidate():
    assert select_candidate([3.0, 2.0, 2.5]) == 1
    assert select_candidate([2.01, 2.0, 1.995]) == 0  # within 1% of the best: the incumbent stays
    assert select_candidate([2.5, 2.0, 2.01]) == 1


def test_weighted_median_and_recency_weights():
    assert weighted_median(np.array([1.0, 2.0, 10.0]), np.ones(3)) == 2.0
    assert weighted_median(np.array([1.0, 2.0, 10.0]), np.array([1.0, 1.0, 5.0])) == 10.0
    start = pd.Series(pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"], utc=True),
                      index=["a", "b", "c", "d"])
    weights = recency_weights(np.array(["a", "d", "d", "c"]), start, 0.5)
    # Three cases present; half-life 1.5 cases: the newest weighs 1, the oldest (2 newer) 0.5**(2/1.5).
    assert np.allclose(weights, [0.5 ** (2 / 1.5), 1.0, 1.0, 0.5 ** (1 / 1.5)])
    assert np.all(recency_weights(np.array(["a", "b"]), start, None) == 1.0)


class SpyForecaster(ResolutionForecaster):
    seen: list[set] = []

    def fit(self, events, progress=None):
        SpyForecaster.seen.append(set(events["case_id"]))
        return super().fit(events, progress=progress)


def test_evaluation_never_passes_the_test_cases_to_the_fit_and_selection():
    log = make_log(150, sigma=0.3, seed=4)
    train, valid, test = chronological_case_split(log)
    SpyForecaster.seen = []
    result = evaluate_protocol(log, lambda: SpyForecaster(**FAST, interval_seeds=1))
    assert SpyForecaster.seen == [set(train) | set(valid)]
    assert not SpyForecaster.seen[0] & set(test)
    report = result["forecaster"].training_report
    # The selection's hold-out is the fit's newest 20%: exactly the validation cases.
    assert report["calibration_cases"] == len(valid)
    assert len(report["selection"]) == len(result["forecaster"].candidates())
    assert 0.0 <= result["coverage"] <= 1.0 and result["prefixes"] > 0

    SpyForecaster.seen = []
    evaluate_protocol(log, lambda: SpyForecaster(**FAST, interval_seeds=1), validation_only=True)
    assert SpyForecaster.seen == [set(train)]  # validation plays the test; the test cases are not read


def test_selection_follows_a_drifting_process():
    # The newest cases run four times slower: the recency-weighted candidates must win on the hold-out.
    old = make_log(240, seed=5, span_days=200)
    new = make_log(120, seed=6, start="2024-07-20", span_days=100)
    new["timestamp"] = new.groupby("case_id")["timestamp"].transform(lambda t: t.iloc[0] + 4 * (t - t.iloc[0]))
    new["case_id"] = "n" + new["case_id"].astype(str)
    forecaster = ResolutionForecaster(**FAST, interval_seeds=1).fit(pd.concat([old, new], ignore_index=True))
    report = forecaster.training_report
    assert report["recency_half_life"] is not None, report["selection"]
    assert report["recalibration_window"] == forecaster.recalibration_window.label
