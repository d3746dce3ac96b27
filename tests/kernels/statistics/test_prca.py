import numpy as np
import pandas as pd
import pytest
from scipy import stats

from servicepulse.kernels.statistics import AnalyticsInputError, check_label, prca


@pytest.fixture(scope="module")
def survey():
    """Synthetic survey with planted effects: 'invoice' penalty only, 'visit' reward only,
    'repair' both, 'letter' nothing."""
    rng = np.random.default_rng(20)
    n = 1500
    moments = pd.DataFrame({m: rng.integers(1, 11, n) for m in ("invoice", "visit", "repair", "letter")})
    overall = (
        7.0
        - 1.6 * (moments["invoice"] <= 6)
        + 1.3 * (moments["visit"] >= 9)
        - 0.9 * (moments["repair"] <= 6)
        + 0.8 * (moments["repair"] >= 9)
        + rng.normal(0, 1.0, n)
    )
    return moments, overall


def _independent_ols(moments, overall, low_cut=6, high_cut=9):
    names, columns = [], [np.ones(len(overall))]
    for m in moments.columns:
        columns += [(moments[m] <= low_cut).to_numpy(float), (moments[m] >= high_cut).to_numpy(float)]
        names += [(m, "penalty"), (m, "reward")]
    x = np.column_stack(columns)
    y = overall.to_numpy(float)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    df = x.shape[0] - x.shape[1]
    cov = resid @ resid / df * np.linalg.inv(x.T @ x)
    se = np.sqrt(np.diag(cov))
    p = 2 * stats.t.sf(np.abs(coef / se), df)
    return {name: (coef[i + 1], se[i + 1], p[i + 1]) for i, name in enumerate(names)}, coef[0]


def test_planted_behaviours_are_found(survey):
    moments, overall = survey
    result = prca(moments, overall)
    assert result.table["behaviour"].to_dict() == {
        "invoice": "basic", "visit": "excitement", "repair": "performance", "letter": "no effect",
    }
    assert result.table.loc["invoice", "label_en"] == "basic: penalty only (behaves functional)"
    assert result.table.loc["visit", "label_nl"].startswith("enthousiasmefactor")
    assert result.table.loc["invoice", "penalty"] == pytest.approx(-1.6, abs=0.15)
    assert result.table.loc["visit", "reward"] == pytest.approx(1.3, abs=0.15)


def test_coefficients_match_an_independent_ols(survey):
    moments, overall = survey
    expected, intercept = _independent_ols(moments, overall)
    result = prca(moments, overall)
    assert result.intercept == pytest.approx(intercept)
    for (moment, side), (coef, se, p) in expected.items():
        assert float(result.table.loc[moment, side]) == pytest.approx(coef, abs=1e-9)
        assert float(result.table.loc[moment, f"{side}_se"]) == pytest.approx(se, abs=1e-9)
        assert float(result.table.loc[moment, f"{side}_p"]) == pytest.approx(p, abs=1e-9)
    assert result.n == len(overall) and result.dropped_rows == 0


def test_labels_are_checked_against_behaviour(survey):
    moments, overall = survey
    behaviour = prca(moments, overall).table["behaviour"]
    check = check_label("functional", behaviour["visit"])
    assert check.consistent is False and check.suggested_kind == "emotional"
    assert check.suggestion_en == "labelled functional but behaves like excitement: consider emotional"
    assert check_label("functional", behaviour["invoice"]).consistent is True


def test_missing_rows_dropped_and_absent_groups_reported(survey):
    moments, overall = survey
    moments = moments.copy()
    moments["letter"] = moments["letter"].clip(lower=7)  # nobody scores the letter 6 or lower
    moments.loc[[3, 4], "visit"] = np.nan
    result = prca(moments, overall)
    assert result.dropped_rows == 2 and result.n == len(overall) - 2
    assert pd.isna(result.table.loc["letter", "penalty"])
    assert result.table.loc["letter", "n_low"] == 0
    assert any("'letter': no scores <= 6" in note for note in result.notes)
    # absent groups are <NA> in nullable columns, never a float NaN
    assert str(result.table["penalty"].dtype) == "Float64"
    assert not [c for c in result.table if result.table[c].dtype == np.float64]


def test_bad_input_is_explained(survey):
    moments, overall = survey
    broken = moments.copy().astype(object)
    broken.loc[9, "repair"] = 14
    with pytest.raises(AnalyticsInputError, match=r"'repair', row 9: expected a score from 0 to 10, got 14"):
        prca(broken, overall)
    twins = moments.assign(invoice_copy=moments["invoice"])
    with pytest.raises(AnalyticsInputError, match="'invoice_copy' coincide"):
        prca(twins, overall)
    with pytest.raises(AnalyticsInputError, match="too few complete rows"):
        prca(moments.head(6), overall.head(6))
    with pytest.raises(AnalyticsInputError, match="low_cut .* must be below high_cut"):
        prca(moments, overall, low_cut=9, high_cut=6)
