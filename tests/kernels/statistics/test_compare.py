import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from servicepulse.kernels.statistics import (
    AnalyticsInputError,
    adjust_pvalues,
    compare_many,
    compare_means,
    compare_means_from_stats,
    compare_nps,
    compare_nps_segments,
    compare_shares,
)

SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_against_published_sleep_output():
    # R: t.test(extra ~ group, data = sleep) -> t = -1.8608, df = 17.776, p-value = 0.07939,
    # 95% CI -3.3654832 0.2054832 for mean(group 1) - mean(group 2).
    result = compare_means(SLEEP_2, SLEEP_1, min_n=2)  # b - a = group 1 - group 2
    assert round(result.statistic, 4) == -1.8608
    assert round(result.df, 3) == 17.776
    assert round(result.p_value, 5) == 0.07939
    assert result.low == pytest.approx(-3.3654832, abs=1e-7)
    assert result.high == pytest.approx(0.2054832, abs=1e-7)


def test_welch_against_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(7.1, 1.2, 60), rng.normal(7.6, 2.0, 45)
    reference = stats.ttest_ind(b, a, equal_var=False)
    ci = reference.confidence_interval(0.9)
    result = compare_means(a, b, confidence=0.9)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.df == pytest.approx(reference.df)
    assert (result.low, result.high) == pytest.approx((ci.low, ci.high))
    summary = stats.ttest_ind_from_stats(7.6, 2.0, 45, 7.1, 1.2, 60, equal_var=False)
    from_stats = compare_means_from_stats(7.1, 1.2, 60, 7.6, 2.0, 45)
    assert from_stats.statistic == pytest.approx(summary.statistic)
    assert from_stats.p_value == pytest.approx(summary.pvalue)


@pytest.mark.parametrize("ka, na, kb, nb", [(48, 80, 56, 70), (120, 400, 150, 410), (5, 40, 1, 35)])
def test_two_proportion_z_equals_chi_square_without_correction(ka, na, kb, nb):
    chi2, p, _, _ = stats.chi2_contingency([[ka, na - ka], [kb, nb - kb]], correction=False)
    result = compare_shares(ka, na, kb, nb)
    assert result.statistic ** 2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p)
    assert result.difference == pytest.approx(kb / nb - ka / na)


def test_share_difference_interval_against_newcombe_example():
    # Newcombe (1998b), Statistics in Medicine 17:873-890, example 56/70 - 48/80,
    # method 10 (hybrid score, no correction): 0.0524 to 0.3339.
    result = compare_shares(48, 80, 56, 70)
    assert round(result.low, 4) == 0.0524
    assert round(result.high, 4) == 0.3339


def _weighted(counts):
    values = np.array([-1.0, 0.0, 1.0])
    weights = np.asarray(counts, dtype=float)
    mean = np.average(values, weights=weights)
    return mean, np.average((values - mean) ** 2, weights=weights), weights.sum()


@pytest.mark.parametrize("method, pseudo", [("wald", (0, 0, 0)), ("adjusted-wald", (0.75, 1.5, 0.75))])
def test_nps_difference_against_independent_computation(method, pseudo):
    a, b = (395, 476, 291), (350, 470, 342)
    ma, va, na = _weighted(np.add(a, pseudo))
    mb, vb, nb = _weighted(np.add(b, pseudo))
    se = math.sqrt(va / na + vb / nb)
    z = (mb - ma) / se
    result = compare_nps(a, b, method=method)
    assert result.difference == pytest.approx(((342 - 350) / 1162 - (291 - 395) / 1162) * 100)
    assert result.se == pytest.approx(se * 100)
    assert result.statistic == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * (1 - stats.norm.cdf(abs(z))))
    assert result.low == pytest.approx((mb - ma - 1.959964 * se) * 100, abs=1e-4)


def test_comparisons_with_too_few_or_no_spread_explain_themselves():
    few = compare_nps((1, 2, 3), (100, 100, 100))
    assert few.too_few and few.message == "too few answers (n=6 < 30) in the first group (a)"
    assert few.p_value is None and few.difference is None
    flat = compare_nps((0, 0, 40), (0, 0, 50), method="wald")
    assert flat.p_value is None and "no test possible" in flat.message and flat.difference == 0
    flat_means = compare_means([7] * 30, [7] * 30)
    assert flat_means.p_value is None and "no test possible" in flat_means.message
    with pytest.raises(AnalyticsInputError, match="cannot exceed"):
        compare_shares(40, 30, 1, 30)


def _holm_decisions(p, alpha):
    """Holm's step-down test as published: reject while p_(i) <= alpha / (m - i + 1)."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = [False] * len(p)
    for step, i in enumerate(order):
        if p[i] <= alpha / (len(p) - step):
            rejected[i] = True
        else:
            break
    return rejected


def test_holm_against_step_down_procedure():
    rng = np.random.default_rng(11)
    for _ in range(50):
        p = np.concatenate([rng.uniform(0, 0.02, rng.integers(0, 5)), rng.uniform(0, 1, rng.integers(1, 12))])
        adjusted = adjust_pvalues(p, "holm")
        assert np.all(adjusted >= p) and np.all(adjusted <= 1)
        for alpha in (0.01, 0.05, 0.1):
            assert list(adjusted <= alpha) == _holm_decisions(list(p), alpha)


def test_holm_against_textbook_values():
    # three tests p = 0.01, 0.04, 0.03 -> Holm: 0.03, 0.06, 0.06
    assert adjust_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])


def test_benjamini_hochberg_against_scipy():
    rng = np.random.default_rng(5)
    for size in (1, 2, 7, 40):
        p = rng.uniform(0, 0.2, size)
        assert adjust_pvalues(p, "bh") == pytest.approx(stats.false_discovery_control(p, method="bh"))


def test_adjust_pvalues_rejects_bad_input():
    with pytest.raises(AnalyticsInputError, match="p-value number 2"):
        adjust_pvalues([0.1, float("nan")])
    with pytest.raises(AnalyticsInputError, match="unknown correction"):
        adjust_pvalues([0.1], "bonferroni-ish")


def test_compare_many_corrects_only_the_tested_rows():
    results = {
        "billing": compare_shares(40, 200, 70, 210),
        "repairs": compare_shares(50, 200, 55, 190),
        "moving": compare_shares(30, 100, 45, 100),
        "tiny": compare_shares(2, 10, 5, 12),
    }
    table = compare_many(results, correction="holm")
    tested = ["billing", "repairs", "moving"]
    expected = adjust_pvalues([results[k].p_value for k in tested], "holm")
    assert table.loc[tested, "p_adjusted"].astype(float).to_numpy() == pytest.approx(expected)
    assert pd.isna(table.loc["tiny", "p_adjusted"]) and not table.loc["tiny", "significant"]
    assert "too few answers" in table.loc["tiny", "message"]
    assert table.loc["billing", "significant"] == (expected[0] < 0.05)
    assert str(table["p_adjusted"].dtype) == "Float64"  # empty means <NA>, never a float NaN
    assert table.loc[tested, ["difference", "low", "high", "p_value", "p_adjusted"]].notna().all().all()


def test_segments_against_rest():
    counts = pd.DataFrame(
        {"detractors": [40, 50, 25, 30], "passives": [50, 60, 25, 30], "promoters": [60, 40, 23, 50]},
        index=["north", "east", "south", "west"],
    )
    table = compare_nps_segments(counts, correction="bh")
    rest = counts.drop(index="east").sum()
    direct = compare_nps(tuple(rest), tuple(counts.loc["east"]))
    assert table.loc["east", "difference"] == pytest.approx(direct.difference)
    assert table.loc["east", "p_value"] == pytest.approx(direct.p_value)
    assert list(table.index) == ["north", "east", "south", "west"]
    against = compare_nps_segments(counts, against="north")
    assert "north" not in against.index and len(against) == 3
    with pytest.raises(AnalyticsInputError, match="'nowhere' is not among the segments"):
        compare_nps_segments(counts, against="nowhere")
    with pytest.raises(AnalyticsInputError, match="promoters"):
        compare_nps_segments(counts.drop(columns="promoters"))
