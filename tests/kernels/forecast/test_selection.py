"""Model selection happens on the fit's own newest cases, never on the test period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import chronological_case_split, evaluate_protocol
from servicepulse.kernels.forecast.model import recency_weights, select_candidate, weighted_median
from servicepulse.kernels.forecast.recalibration import RecalibrationWindow, conformity_table

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


def _holdout(n_cases: int = 120, seed: int = 3) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A hold-out table as fit() builds it: per prefix its moment, its case's close, raw bounds,
    truth and point; lengths 1-3; the raw interval too narrow for long prefixes."""
    rng = np.random.default_rng(seed)
    rows = []
    origin = pd.Timestamp("2025-03-01")
    for case in range(n_cases):
        start = origin + pd.Timedelta(days=float(rng.uniform(0, 60)))
        closed = start + pd.Timedelta(days=float(rng.uniform(1, 6)))
        for length in (1, 2, 3):
            y = float(rng.gamma(2.0, 1.0 + length))
            rows.append({"case_id": case, "closed_at": closed, "at": start + pd.Timedelta(hours=6 * length),
                         "low": 0.5, "high": 3.0 + length, "y": y, "point": 2.0, "length": length})
    table = pd.DataFrame(rows)
    groups = {"global": np.full(len(table), "all", dtype=object),
              "by_length": table["length"].astype(str).to_numpy()}
    return table.drop(columns="length").assign(group=groups["global"]), groups


def test_interval_choice_scores_each_option_as_the_nightly_recalibration_would():
    from servicepulse.kernels.forecast.model import WINDOW_CANDIDATES, WINDOW_TIE, choose_window, finish_forecast
    from servicepulse.kernels.forecast.recalibration import calibration_at

    holdout, groups = _holdout()
    method, window, trials = choose_window(holdout, ("global", "by_length"), 0.8, groups)
    # Independently: recalibrate with the product's own code at the start of each prefix's day.
    days = pd.DatetimeIndex(holdout["at"]).normalize()
    expected, counted = {}, np.ones(len(holdout), dtype=bool)
    for name in ("global", "by_length"):
        table = holdout.assign(group=groups[name]).sort_values("closed_at", kind="stable").reset_index(drop=True)
        for w in WINDOW_CANDIDATES:
            inside = np.zeros(len(holdout), dtype=bool)
            for i in range(len(holdout)):
                calibration, _ = calibration_at(table, days[i].tz_localize("UTC"), w, name, 0.8)
                if calibration is None:
                    counted[i] = False
                    continue
                lo, hi = calibration.apply(holdout["low"].to_numpy()[[i]], holdout["high"].to_numpy()[[i]],
                                           groups[name][[i]])
                served = finish_forecast(holdout["point"].to_numpy()[[i]], lo, hi, pd.RangeIndex(1)).iloc[0]
                inside[i] = served["lower_s"] / 86_400 <= holdout["y"].iloc[i] <= served["upper_s"] / 86_400
            expected[name, w.label] = inside
    assert counted.sum() >= 100  # the rule is applied, not the fallback
    for trial in trials:
        assert trial["prefixes"] == counted.sum()
        assert trial["coverage"] == pytest.approx(expected[trial["method"], trial["window"]][counted].mean())
    # Window first, then method; the first option within WINDOW_TIE of the nearest coverage wins.
    assert [(t["window"], t["method"]) for t in trials][:2] == [(WINDOW_CANDIDATES[0].label, "global"),
                                                                (WINDOW_CANDIDATES[0].label, "by_length")]
    gaps = [abs(t["coverage"] - 0.8) for t in trials]
    first = next(t for t, gap in zip(trials, gaps) if gap < min(gaps) + WINDOW_TIE)
    assert (method, window.label) == (first["method"], first["window"])


def test_auto_interval_uses_the_method_it_chose_and_unseen_activities_have_a_group():
    log = make_log(300, sigma=0.4, seed=8)
    forecaster = ResolutionForecaster(**FAST, interval_seeds=1).fit(log)
    report = forecaster.training_report
    chosen = [t for t in report["window_selection"]
              if (t["method"], t["window"]) == (report["interval_method"], report["recalibration_window"])]
    assert len(chosen) == 1 and forecaster.fit_calibration.method == report["interval_method"]
    assert len(report["window_selection"]) == 4 * 3  # four methods, three windows

    fixed = ResolutionForecaster(**FAST, interval_seeds=1, interval="by_activity").fit(log)
    assert {t["method"] for t in fixed.training_report["window_selection"]} == {"by_activity"}
    renamed = log.copy()
    renamed.loc[renamed["activity"] == "Escalate", "activity"] = "Escalate to vendor"  # never seen in training
    calibration = fixed.recalibrate(renamed, renamed["timestamp"].max() + pd.Timedelta(days=1),
                                    RecalibrationWindow(prefixes=600))
    table = conformity_table(fixed, renamed)
    assert "<unseen>" in set(table["group"])
    assert calibration.method == "by_activity" and fixed.recalibration["prefixes"] == min(600, len(table))
