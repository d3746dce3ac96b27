"""Key-driver analysis: how much of the variance in an overall score each driver explains.

Two methods that split R-squared fairly among correlated drivers (plain
regression weights do not):

- :func:`relative_weights` - Johnson (2000), "A heuristic method for estimating
  the relative weight of predictor variables in multiple regression",
  Multivariate Behavioral Research 35(1), 1-19. Fast for any number of drivers.
- :func:`dominance` - general dominance (Budescu 1993; Azen & Budescu 2003),
  identical to the Shapley value / LMG decomposition of R-squared. Exact: the
  R-squared of all 2^p driver subsets is computed once from the correlation
  matrix (batched linear solves per subset size), then each driver's average
  increment is taken over subset sizes.

Both return a pandas Series of raw weights by driver name that sums to the
model R-squared; ``.attrs`` holds ``r2``, ``rescaled_pct`` (weights as % of
R-squared), ``n`` (rows used), ``dropped_rows`` (rows left out for missing
values) and ``method``. The ``*_result`` functions return the same as a
:class:`DriverResult`.

Input that cannot give a meaningful answer raises :class:`DriverAnalysisError`
with a message naming the driver or the problem.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd

from .errors import AnalyticsInputError, DriverAnalysisError
from .ols import ols_fit

MAX_DOMINANCE_DRIVERS = 20  # 2^20 subsets; beyond that use relative weights
_SUBSET_BATCH = 8192  # subsets solved per batch, bounds memory


@dataclass(frozen=True)
class DriverResult:
    """Importance of each driver as a share of R-squared."""

    method: str
    weights: pd.Series  # raw weights, sum to r2
    rescaled_pct: pd.Series  # weights as % of r2, sum to 100
    r2: float
    n: int
    dropped_rows: int
    message: str | None = None

    def as_series(self) -> pd.Series:
        """Raw weights with the other fields in ``.attrs`` (plain Python values)."""
        series = self.weights.copy()
        series.attrs = {
            "method": self.method,
            "r2": self.r2,
            "rescaled_pct": {k: float(v) for k, v in self.rescaled_pct.items()},
            "n": self.n,
            "dropped_rows": self.dropped_rows,
            "message": self.message,
        }
        return series


@dataclass(frozen=True)
class _Prepared:
    names: list[str]
    x: np.ndarray
    y: np.ndarray
    dropped: int


def _numeric_column(column: pd.Series, label: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        row = bad.index[bad.to_numpy().argmax()]
        raise DriverAnalysisError(f"{label} must hold numbers; row {row!r} has {column.loc[row]!r}")
    return converted.astype(float)


def prepare_drivers(X: pd.DataFrame, y: pd.Series) -> _Prepared:
    """Check and clean driver input; rows with a missing value are dropped and counted."""
    if not isinstance(X, pd.DataFrame):
        raise DriverAnalysisError("drivers must be a table (pandas DataFrame) with one column per driver")
    if X.shape[1] == 0:
        raise DriverAnalysisError("no drivers given: the driver table has no columns")
    if X.columns.duplicated().any():
        dup = X.columns[X.columns.duplicated()][0]
        raise DriverAnalysisError(f"driver {dup!r} appears more than once")
    if not isinstance(y, pd.Series):
        y = pd.Series(np.asarray(y), index=X.index if len(y) == len(X) else None)
    if len(X) == 0 or len(y) == 0:
        raise DriverAnalysisError("no rows: there are no answers to analyse")
    if not X.index.equals(y.index):
        if len(X.index.intersection(y.index)) == 0:
            raise DriverAnalysisError("the outcome and the drivers share no row labels; align them first")
    table = X.copy()
    table.columns = [str(c) for c in X.columns]
    names = list(table.columns)
    for name in names:
        table[name] = _numeric_column(table[name], f"driver {name!r}")
    outcome = _numeric_column(y.rename(None), "the outcome").reindex(table.index)
    frame = table.assign(__outcome__=outcome).replace([np.inf, -np.inf], np.nan)
    complete = frame.dropna()
    dropped = len(frame) - len(complete)
    p, n = len(names), len(complete)
    if n == 0:
        raise DriverAnalysisError(f"no complete rows: all {len(frame)} rows miss the outcome or a driver")
    if n < p + 2:
        raise DriverAnalysisError(
            f"too few complete rows for {p} drivers: need at least {p + 2}, have {n}"
            + (f" ({dropped} rows dropped for missing values)" if dropped else "")
        )
    x = complete[names].to_numpy(dtype=float)
    yv = complete["__outcome__"].to_numpy(dtype=float)
    flat = [names[j] for j in range(p) if np.ptp(x[:, j]) == 0]
    if flat:
        raise DriverAnalysisError(
            "driver(s) without variance (every answer the same): " + ", ".join(map(repr, flat))
            + "; they cannot explain anything, leave them out"
        )
    if np.ptp(yv) == 0:
        raise DriverAnalysisError("the outcome has no variance (every answer the same); nothing to explain")
    corr = np.corrcoef(x, rowvar=False).reshape(p, p)
    eigval, eigvec = np.linalg.eigh(corr)
    if eigval[0] < 1e-10:
        weights = np.abs(eigvec[:, 0])
        involved = [names[j] for j in np.flatnonzero(weights > 0.05)]
        raise DriverAnalysisError(
            "perfectly collinear drivers: " + ", ".join(map(repr, involved))
            + " (one is an exact combination of the others); leave one of them out"
        )
    return _Prepared(names=names, x=x, y=yv, dropped=dropped)


def _correlations(data: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    full = np.corrcoef(np.column_stack([data.x, data.y]), rowvar=False)
    return full[:-1, :-1], full[:-1, -1]


def _result(method: str, data: _Prepared, raw: np.ndarray, r2: float) -> DriverResult:
    weights = pd.Series(raw, index=data.names, name="raw_weight", dtype=float)
    message = None
    if r2 <= 1e-12:
        rescaled = pd.Series(0.0, index=data.names, name="rescaled_pct")
        message = "the drivers explain none of the variance in the outcome (R-squared 0)"
    else:
        rescaled = (weights / r2 * 100.0).rename("rescaled_pct")
    return DriverResult(method, weights, rescaled, float(r2), n=len(data.y), dropped_rows=data.dropped,
                        message=message)


def relative_weights_result(X: pd.DataFrame, y: pd.Series) -> DriverResult:
    """Johnson's relative weights as a :class:`DriverResult`."""
    data = prepare_drivers(X, y)
    rxx, rxy = _correlations(data)
    eigval, eigvec = np.linalg.eigh(rxx)
    # Lambda: correlations between the drivers and their closest orthogonal
    # counterparts Z (the symmetric square root of Rxx).
    lam = eigvec @ np.diag(np.sqrt(eigval)) @ eigvec.T
    beta = np.linalg.solve(lam, rxy)  # regression of y on Z
    raw = (lam ** 2) @ (beta ** 2)
    return _result("relative-weights", data, raw, float(beta @ beta))


def relative_weights(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """Johnson (2000) relative weights: raw weights by driver, summing to R-squared.

    See the module docstring for ``.attrs``.
    """
    return relative_weights_result(X, y).as_series()


def subset_r2(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """R-squared of every driver subset, indexed by bit mask (bit j = driver j).

    Uses ``R2_S = r_S' R_SS^-1 r_S`` on the correlation matrix, solving all
    subsets of one size in batches. Entry 0 (no drivers) is 0.
    """
    p = rxx.shape[0]
    r2 = np.zeros(1 << p)
    for k in range(1, p + 1):
        combos = itertools.combinations(range(p), k)
        while True:
            block = np.array(list(itertools.islice(combos, _SUBSET_BATCH)), dtype=np.intp)
            if block.size == 0:
                break
            sub_r = rxx[block[:, :, None], block[:, None, :]]
            sub_y = rxy[block]
            solved = np.linalg.solve(sub_r, sub_y[..., None])[..., 0]
            masks = np.bitwise_or.reduce(np.left_shift(1, block), axis=1)
            r2[masks] = np.einsum("ij,ij->i", sub_y, solved)
    return r2


def general_dominance(r2: np.ndarray, p: int) -> np.ndarray:
    """General dominance weights from all-subset R-squared (see :func:`subset_r2`).

    Driver j gets the mean, over subset sizes k = 0..p-1, of its mean R-squared
    increment over the subsets of size k without j.
    """
    masks = np.arange(1 << p)
    sizes = sum((masks >> j) & 1 for j in range(p))  # subset sizes (popcount, numpy 1.x safe)
    size_weight = np.array([1.0 / (p * comb(p - 1, k)) for k in range(p)])
    out = np.empty(p)
    for j in range(p):
        bit = 1 << j
        without = masks[(masks & bit) == 0]
        gains = r2[without | bit] - r2[without]
        out[j] = float(gains @ size_weight[sizes[without]])
    return out


def dominance_result(X: pd.DataFrame, y: pd.Series) -> DriverResult:
    """General dominance (Shapley/LMG) as a :class:`DriverResult`."""
    p = X.shape[1] if isinstance(X, pd.DataFrame) else 0
    if p > MAX_DOMINANCE_DRIVERS:
        raise DriverAnalysisError(
            f"dominance analysis handles at most {MAX_DOMINANCE_DRIVERS} drivers (2^p subsets), got {p}; "
            "use relative weights for this many drivers"
        )
    data = prepare_drivers(X, y)
    rxx, rxy = _correlations(data)
    r2 = subset_r2(rxx, rxy)
    raw = general_dominance(r2, len(data.names))
    return _result("dominance", data, raw, float(r2[-1]))


def dominance(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """General dominance weights (Shapley value / LMG): sum to the full-model R-squared.

    See the module docstring for ``.attrs``.
    """
    return dominance_result(X, y).as_series()


def driver_slopes(X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Unstandardised multiple-regression slopes of the outcome on each driver.

    Columns: ``slope`` (outcome points per driver point), ``se``, ``p_value``.
    ``.attrs`` holds ``r2``, ``n`` and ``dropped_rows``. The slope is what the
    7+/9+ project scan needs to turn a moment's improvement into overall points.
    """
    data = prepare_drivers(X, y)
    design = np.column_stack([np.ones(len(data.y)), data.x])
    try:
        fit = ols_fit(design, data.y)
    except AnalyticsInputError as exc:  # already screened, but keep the message human
        raise DriverAnalysisError(str(exc)) from None
    table = pd.DataFrame(
        {"slope": fit.coef[1:], "se": fit.se[1:], "p_value": fit.p_value[1:]}, index=data.names
    )
    table.attrs = {"r2": fit.r2, "n": fit.n, "dropped_rows": data.dropped}
    return table


def univariate_slopes(X: pd.DataFrame, y: pd.Series) -> pd.Series:
    """The slope of the outcome on each driver alone (for a 0/1 driver: mean outcome with minus without).

    Shown beside the partial (multiple-regression) slope: when drivers overlap, a partial slope can take
    the opposite sign of what the driver does on its own.
    """
    data = prepare_drivers(X, y)
    xc = data.x - data.x.mean(axis=0)
    yc = data.y - data.y.mean()
    slopes = (xc * yc[:, None]).sum(axis=0) / (xc ** 2).sum(axis=0)
    return pd.Series(slopes, index=data.names, name="univariate", dtype=float)
