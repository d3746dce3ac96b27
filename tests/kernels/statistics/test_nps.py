import math

import numpy as np
import pytest
from scipy import stats

from servicepulse.kernels.statistics import (
    AnalyticsInputError,
    nps,
    nps_answer_sd,
    nps_answer_variance,
    nps_counts,
    nps_from_scores,
)


def _expand(det, pas, pro):
    return np.concatenate([np.full(det, -1.0), np.zeros(pas), np.ones(pro)])


def test_published_wald_example_1162_answers():
    # 1,162 answers: 291 promoters, 476 passives, 395 detractors
    # -> NPS -8.95, 95% Wald margin of error +-4.39 points.
    result = nps(395, 476, 291, method="wald")
    assert round(result.score, 2) == -8.95
    assert round((result.high - result.low) / 2, 2) == 4.39
    assert result.n == 1162 and not result.too_few and result.message is None


def test_published_per_answer_variance_and_sd():
    # shares 1/2 promoters, 1/3 passives, 1/6 detractors: NPS 33.3, variance 5/9, SD 74.5 points
    assert nps_answer_variance(1 / 6, 1 / 3, 1 / 2) == pytest.approx(5 / 9, abs=1e-12)
    assert round(nps_answer_sd(1 / 6, 1 / 3, 1 / 2), 1) == 74.5
    assert round(nps(100, 200, 300).score, 1) == 33.3
    # counts with the same shares give the same variance
    assert nps_answer_variance(100, 200, 300) == pytest.approx(5 / 9)


def test_wald_matches_trinomial_mean_interval():
    det, pas, pro = 57, 81, 112
    values = _expand(det, pas, pro)
    se = values.std(ddof=0) / math.sqrt(values.size)
    z = stats.norm.ppf(0.975)
    result = nps(det, pas, pro, method="wald")
    assert result.score == pytest.approx(values.mean() * 100)
    assert result.se == pytest.approx(se * 100)
    assert result.low == pytest.approx((values.mean() - z * se) * 100)
    assert result.high == pytest.approx((values.mean() + z * se) * 100)


@pytest.mark.parametrize("counts", [(395, 476, 291), (3, 10, 40), (30, 2, 1), (12, 12, 12)])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_adjusted_wald_against_independent_weighted_computation(counts, confidence):
    # Rocks (2016): add 0.75 detractors, 1.5 passives, 0.75 promoters; Wald on the result.
    det, pas, pro = counts
    weights = np.array([det + 0.75, pas + 1.5, pro + 0.75])
    values = np.array([-1.0, 0.0, 1.0])
    centre = np.average(values, weights=weights)
    variance = np.average((values - centre) ** 2, weights=weights)
    se = math.sqrt(variance / weights.sum())
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    result = nps(det, pas, pro, method="adjusted-wald", confidence=confidence, min_n=1)
    assert result.score == pytest.approx((pro - det) / sum(counts) * 100)  # reported score is unadjusted
    assert result.se == pytest.approx(se * 100)
    assert result.low == pytest.approx(max(-100, (centre - z * se) * 100))
    assert result.high == pytest.approx(min(100, (centre + z * se) * 100))


def test_adjusted_interval_is_centred_on_the_adjusted_estimate_not_the_score():
    result = nps(3, 10, 40, min_n=1)
    assert (result.low + result.high) / 2 < result.score  # pulled towards 0


def test_bootstrap_is_reproducible_and_agrees_with_scipy_bootstrap():
    det, pas, pro = 395, 476, 291
    first = nps(det, pas, pro, method="bootstrap", seed=7, n_boot=4000)
    again = nps(det, pas, pro, method="bootstrap", seed=7, n_boot=4000)
    assert first == again
    reference = stats.bootstrap(
        (_expand(det, pas, pro),), np.mean, n_resamples=4000, method="percentile",
        random_state=np.random.default_rng(1),
    )
    assert first.low == pytest.approx(reference.confidence_interval.low * 100, abs=0.4)
    assert first.high == pytest.approx(reference.confidence_interval.high * 100, abs=0.4)
    assert first.se == pytest.approx(reference.standard_error * 100, rel=0.08)
    assert first.score == pytest.approx(-8.95, abs=0.01)


@pytest.mark.parametrize("method", ["adjusted-wald", "wald", "bootstrap"])
def test_interval_is_clipped_to_the_nps_range(method):
    result = nps(0, 1, 59, method=method, seed=1)
    assert -100 <= result.low <= result.score <= result.high <= 100
    assert result.high == 100
    everyone_promotes = nps(0, 0, 40, method=method, seed=1)
    assert everyone_promotes.high == 100 and everyone_promotes.low <= 100


@pytest.mark.parametrize("method", ["adjusted-wald", "wald", "bootstrap"])
def test_too_few_answers_gives_a_message_not_a_number(method):
    result = nps(2, 4, 6, method=method)
    assert result.too_few
    assert result.message == "too few answers (n=12 < 30)"
    assert result.score is None and result.low is None and result.high is None and result.se is None
    assert nps(2, 4, 6, method=method, min_n=10, seed=0).score == pytest.approx(100 / 3)
    empty = nps(0, 0, 0, method=method)
    assert empty.too_few and empty.message == "too few answers (n=0 < 30)"


def test_results_never_hold_nan():
    for counts in [(0, 0, 30), (30, 0, 0), (0, 30, 0), (1, 1, 1000)]:
        for method in ("adjusted-wald", "wald", "bootstrap"):
            r = nps(*counts, method=method, seed=0)
            assert all(math.isfinite(v) for v in (r.score, r.low, r.high, r.se))


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(detractors=-1, passives=3, promoters=4), "detractors cannot be negative"),
        (dict(detractors=1.5, passives=3, promoters=4), "detractors must be a whole number"),
        (dict(detractors=1, passives="x", promoters=4), "passives must be a whole number"),
        (dict(detractors=1, passives=3, promoters=4, method="exact"), "unknown NPS interval method"),
        (dict(detractors=1, passives=3, promoters=4, confidence=95), "confidence must be between 0 and 1"),
    ],
)
def test_bad_input_is_explained(kwargs, fragment):
    with pytest.raises(AnalyticsInputError, match=fragment):
        nps(**kwargs)


def test_counts_from_answers_and_bad_rows():
    counts = nps_counts([0, 6, 7, 8, 9, 10, None, float("nan"), 10])
    assert counts == (2, 2, 3, 2)
    assert nps_from_scores([9] * 20 + [0] * 10, min_n=1).score == pytest.approx(100 / 3)
    with pytest.raises(AnalyticsInputError, match=r"row 2: .* 0 to 10, got 11"):
        nps_counts([1, 2, 11])
    with pytest.raises(AnalyticsInputError, match="row 1"):
        nps_counts([1, "often"])
    with pytest.raises(AnalyticsInputError, match="got 7.5"):
        nps_counts([7.5])
