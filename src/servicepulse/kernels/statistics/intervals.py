"""Confidence intervals for shares (Wilson) and means (Student t).

Both return frozen result objects that carry ``too_few`` and a human
``message`` instead of numbers when the sample is below ``min_n``; they never
hold NaN. The NPS interval lives in :mod:`servicepulse.kernels.statistics.nps`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import DEFAULT_MIN_N, check_confidence, check_count, check_min_n, too_few_message
from ._values import numeric_values
from .errors import AnalyticsInputError


@dataclass(frozen=True)
class ShareResult:
    """A share (0..1) with its Wilson score interval.

    ``share``, ``low`` and ``high`` are None when ``too_few`` is True.
    """

    share: float | None
    low: float | None
    high: float | None
    successes: int
    n: int
    confidence: float
    too_few: bool = False
    message: str | None = None


@dataclass(frozen=True)
class MeanResult:
    """A mean with its t interval; ``se`` is the standard error of the mean.

    ``mean``, ``low``, ``high``, ``se`` and ``sd`` are None when ``too_few``.
    ``missing`` counts values left out as missing.
    """

    mean: float | None
    low: float | None
    high: float | None
    se: float | None
    sd: float | None
    n: int
    confidence: float
    missing: int = 0
    too_few: bool = False
    message: str | None = None


def wilson(successes: int, n: int, confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N) -> ShareResult:
    """Share ``successes / n`` with the Wilson (1927) score interval.

    The score interval keeps good coverage for small n and shares near 0 or 1,
    where the Wald interval fails (Newcombe 1998, Statistics in Medicine 17,
    857-872, recommends it).
    """
    k = check_count(successes, "successes")
    total = check_count(n, "n")
    conf = check_confidence(confidence)
    threshold = check_min_n(min_n)
    if k > total:
        raise AnalyticsInputError(f"successes ({k}) cannot exceed the number of answers n ({total})")
    if total < threshold:
        return ShareResult(None, None, None, k, total, conf, too_few=True,
                           message=too_few_message(total, threshold))
    z = stats.norm.ppf(0.5 + conf / 2.0)
    p = k / total
    z2n = z * z / total
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / total + z2n / (4.0 * total))
    return ShareResult(
        share=float(p),
        low=float(max(0.0, centre - half)),
        high=float(min(1.0, centre + half)),
        successes=k,
        n=total,
        confidence=conf,
    )


def mean_t_from_stats(
    mean: float, sd: float, n: int, confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N, missing: int = 0
) -> MeanResult:
    """t interval for a mean from summary statistics (e.g. SQL aggregates).

    ``sd`` is the sample standard deviation (n - 1 in the denominator).
    """
    total = check_count(n, "n")
    conf = check_confidence(confidence)
    threshold = max(check_min_n(min_n), 2)  # one value has no spread
    if total < threshold:
        return MeanResult(None, None, None, None, None, total, conf, missing, too_few=True,
                          message=too_few_message(total, threshold))
    if not (np.isfinite(mean) and np.isfinite(sd)) or sd < 0:
        raise AnalyticsInputError(f"mean and sd must be finite numbers and sd >= 0, got mean={mean!r}, sd={sd!r}")
    se = sd / np.sqrt(total)
    t = stats.t.ppf(0.5 + conf / 2.0, df=total - 1)
    return MeanResult(
        mean=float(mean),
        low=float(mean - t * se),
        high=float(mean + t * se),
        se=float(se),
        sd=float(sd),
        n=total,
        confidence=conf,
        missing=missing,
    )


def mean_t(
    values: Iterable[float] | pd.Series | np.ndarray, confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N
) -> MeanResult:
    """Mean of ``values`` with a Student t interval.

    Missing values (None/NaN) are left out and counted in ``missing``; text is
    an error that names the row.
    """
    clean, missing = numeric_values(values)
    n = clean.size
    if n < 2:
        return mean_t_from_stats(0.0, 0.0, n, confidence, min_n=min_n, missing=missing)
    return mean_t_from_stats(float(clean.mean()), float(clean.std(ddof=1)), n, confidence,
                             min_n=min_n, missing=missing)
