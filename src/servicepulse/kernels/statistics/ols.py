"""Ordinary least squares with classical standard errors (used by PRCA and slopes).

Kept small on purpose: scaled normal equations, the residual variance on n - k degrees of
freedom, and two-sided t-test p-values per coefficient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .errors import AnalyticsInputError


@dataclass(frozen=True)
class OlsFit:
    """Coefficients (in design-column order) with their SE, t and p-values."""

    coef: np.ndarray
    se: np.ndarray
    t: np.ndarray
    p_value: np.ndarray
    r2: float
    df_resid: int
    n: int


def ols_fit(design: np.ndarray, y: np.ndarray) -> OlsFit:
    """Fit ``y = design @ coef + e``; include an intercept column yourself.

    Raises :class:`AnalyticsInputError` when the design has no residual degrees
    of freedom or its columns are linearly dependent (the caller knows the
    column names and should say which).
    """
    design = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = design.shape
    if n <= k:
        raise AnalyticsInputError(f"need more rows than coefficients to fit a regression (rows {n}, coefficients {k})")
    # Normal equations on column-scaled data: a k x k problem, so tall survey
    # tables (10^5-10^6 rows) stay fast; near-singular designs are refused.
    scale = np.sqrt(np.einsum("ij,ij->j", design, design))
    if np.any(scale == 0):
        raise AnalyticsInputError("the regression columns are linearly dependent (a column is all zero)")
    scaled = design / scale
    gram = scaled.T @ scaled
    if np.linalg.eigvalsh(gram)[0] <= 1e-10 * k:
        raise AnalyticsInputError("the regression columns are linearly dependent")
    gram_inv = np.linalg.inv(gram)
    coef = (gram_inv @ (scaled.T @ y)) / scale
    resid = y - design @ coef
    df = n - k
    sigma2 = float(resid @ resid) / df
    se = np.sqrt(sigma2 * np.diag(gram_inv)) / scale
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, coef / np.where(se > 0, se, 1.0), 0.0)
    p = 2.0 * stats.t.sf(np.abs(t), df)
    # a perfect fit has se 0: report the coefficient as certain rather than NaN
    p = np.where(se > 0, p, np.where(coef != 0, 0.0, 1.0))
    centred = y - y.mean()
    tss = float(centred @ centred)
    r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else 0.0
    return OlsFit(coef=coef, se=se, t=t, p_value=p, r2=r2, df_resid=df, n=n)
