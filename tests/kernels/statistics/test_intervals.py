import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from servicepulse.kernels.statistics import AnalyticsInputError, mean_t, mean_t_from_stats, wilson


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (score, no correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_against_newcombe_worked_examples(k, n, low, high):
    result = wilson(k, n, min_n=1)
    assert round(result.low, 4) == low
    assert round(result.high, 4) == high
    assert result.share == pytest.approx(k / n)


@pytest.mark.parametrize("k, n", [(0, 30), (3, 30), (15, 31), (29, 30), (30, 30), (412, 1000), (7, 5000)])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_against_scipy_binomtest(k, n, confidence):
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    result = wilson(k, n, confidence)
    assert result.low == pytest.approx(reference.low, abs=1e-12)
    assert result.high == pytest.approx(reference.high, abs=1e-12)


def test_wilson_too_few_and_bad_input():
    result = wilson(3, 12)
    assert result.too_few and result.message == "too few answers (n=12 < 30)" and result.share is None
    with pytest.raises(AnalyticsInputError, match="cannot exceed"):
        wilson(31, 30)
    with pytest.raises(AnalyticsInputError, match="successes must be a whole number"):
        wilson(2.5, 30)


def test_mean_t_against_published_sleep_example():
    # Student's sleep data (Cushny & Peebles), R: t.test(extra ~ group, data = sleep, paired = TRUE)
    # mean difference 1.58, 95% CI 0.7001142 to 2.4598858 (group 2 minus group 1).
    group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    result = mean_t(np.subtract(group2, group1), min_n=2)
    assert result.mean == pytest.approx(1.58)
    assert result.low == pytest.approx(0.7001142, abs=1e-7)
    assert result.high == pytest.approx(2.4598858, abs=1e-7)


@pytest.mark.parametrize("n, confidence", [(30, 0.95), (47, 0.9), (200, 0.99)])
def test_mean_t_against_scipy_t_interval(n, confidence):
    values = np.random.default_rng(n).normal(7.2, 1.4, n)
    low, high = stats.t.interval(confidence, df=n - 1, loc=values.mean(), scale=stats.sem(values))
    result = mean_t(values, confidence)
    assert result.low == pytest.approx(low) and result.high == pytest.approx(high)
    assert result.se == pytest.approx(stats.sem(values))
    summary = mean_t_from_stats(values.mean(), values.std(ddof=1), n, confidence)
    assert summary.low == pytest.approx(low) and summary.high == pytest.approx(high)


def test_mean_t_missing_values_too_few_and_text():
    values = pd.Series([7, 8, None, 9, np.nan] + [8] * 30)
    result = mean_t(values)
    assert result.n == 33 and result.missing == 2 and not result.too_few
    few = mean_t([7, 8, 9])
    assert few.too_few and few.message == "too few answers (n=3 < 30)" and few.mean is None
    lonely = mean_t([7], min_n=1)
    assert lonely.too_few and "n=1 < 2" in lonely.message
    flat = mean_t([8] * 40)
    assert flat.low == flat.high == 8 and math.isfinite(flat.se)
    with pytest.raises(AnalyticsInputError, match=r"row 1: expected a number, got 'eight'"):
        mean_t([7, "eight", 9])
