"""Forecasts for cases known to close by a given moment (a right-truncated population).

An extract of *closed* cases taken at a moment ``E`` (the last event in it) holds a
case only if the case closed by ``E``: after a prefix made at time ``t`` the
remaining time is at most ``E - t``. For the newest cases of such an extract that
bound is what makes them short (BPIC 2013 "closed problems" holds exactly the
problems closed in January-May 2012, so its cases started in April-May 2012 all
end within weeks). An open case in the product carries no such bound.

Given the bound, the forecast is the model's predictive distribution *conditioned
on* ``R <= bound``: the conditional median is the quantile at level
``0.5 * F(bound)``, the interval's ends those at ``alpha * F(bound)``. The
predictive distribution is read off the three quantiles the forecaster already
has (10% / median / 90%), as a two-piece log-normal in ``log(1 + days)``: the
median fixes the location, the 10% and 90% quantiles the spread below and above
it. (A skewed, heavy-tailed shape; nothing is fitted here.)

Whether a forecaster uses this at all is chosen at fit time on its hold-out
(``ResolutionForecaster.fit``: the newest closed cases are, by construction,
closed by the newest event given), by the same 1% rule as the model family.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

# The spread in log(1 + days) below which the distribution is treated as a point
# (a degenerate 10%-90% range would make every level the median).
MIN_LOG_SPREAD = 0.02


def bound_days(at: np.ndarray, closed_by) -> np.ndarray:
    """Days from each prefix moment ``at`` (naive UTC datetime64) to ``closed_by`` (never below 0)."""
    if closed_by is None:
        return np.full(len(at), np.inf)
    end = np.datetime64(_naive_utc(closed_by))
    days = (end - np.asarray(at, dtype="datetime64[ns]")) / np.timedelta64(1, "s") / 86_400.0
    return np.clip(days.astype(float), 0.0, None)


def _shape(point, low, high, bound, coverage):
    """Location, spreads below/above (log(1 + days)), the bound (``inf``: none) and
    F(bound), the share of the distribution within the bound."""
    point, low, high, bound = (np.asarray(a, dtype=float) for a in (point, low, high, bound))
    z = float(ndtri(1.0 - (1.0 - coverage) / 2.0))
    mu = np.log1p(np.clip(point, 0.0, None))
    below = np.maximum((mu - np.log1p(np.clip(np.minimum(low, point), 0.0, None))) / z, MIN_LOG_SPREAD)
    above = np.maximum((np.log1p(np.clip(np.maximum(high, point), 0.0, None)) - mu) / z, MIN_LOG_SPREAD)
    finite = np.isfinite(bound)
    log_bound = np.log1p(np.where(finite, bound, 0.0))
    share = np.where(log_bound < mu, ndtr((log_bound - mu) / below), ndtr((log_bound - mu) / above))
    return mu, below, above, np.where(finite, bound, np.inf), np.where(finite, share, 1.0)


def conditional_quantile(point, low, high, bound, levels, coverage: float) -> np.ndarray:
    """The quantile at ``levels`` (per row, in 0..1) of the distribution given remaining <= bound."""
    mu, below, above, bound, share = _shape(point, low, high, bound, coverage)
    q = np.clip(np.asarray(levels, dtype=float) * share, 1e-12, 1.0 - 1e-12)
    value = np.expm1(mu + np.where(q < 0.5, below, above) * ndtri(q))
    return np.clip(np.minimum(value, bound), 0.0, None)


def conditional_level(point, low, high, bound, y, coverage: float) -> np.ndarray:
    """The level (0..1) of each truth ``y`` in the distribution given remaining <= bound (its PIT)."""
    mu, below, above, bound, share = _shape(point, low, high, bound, coverage)
    log_y = np.log1p(np.clip(np.asarray(y, dtype=float), 0.0, None))
    level = np.where(log_y < mu, ndtr((log_y - mu) / below), ndtr((log_y - mu) / above))
    return np.clip(level / np.maximum(share, 1e-12), 0.0, 1.0)


def truncated_point(point, low, high, bound, coverage: float) -> np.ndarray:
    """The median (days) of the distribution given remaining <= ``bound`` (``inf``: no bound,
    ``point`` comes back unchanged). ``low``/``high``: the raw ``(1 - coverage) / 2`` and
    ``(1 + coverage) / 2`` quantiles, which give the distribution its spread."""
    point = np.asarray(point, dtype=float)
    median = conditional_quantile(point, low, high, bound, np.full(len(point), 0.5), coverage)
    return np.where(np.isfinite(np.asarray(bound, dtype=float)), median, point)


def _naive_utc(moment) -> np.datetime64:
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        raise ValueError(f"closed_by must carry a timezone, got {moment!r}.")
    return stamp.tz_convert("UTC").tz_localize(None).to_datetime64()
