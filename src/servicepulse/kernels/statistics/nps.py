"""Net Promoter Score with a confidence interval.

The NPS is the share of promoters (9-10) minus the share of detractors (0-6),
in points from -100 to 100. Each answer scores +1, 0 or -1, so the NPS is a
mean of a three-valued variable whose per-answer variance is
``p_promoters + p_detractors - nps**2`` (on the -1..1 scale).

Interval methods:

``"adjusted-wald"`` (default)
    Rocks, B. (2016). "Interval Estimation for the 'Net Promoter Score'".
    The American Statistician 70(4), 365-372. Add 0.75 detractors, 1.5
    passives and 0.75 promoters (n + 3), then a Wald interval on the adjusted
    proportions. Rocks found it to have the best coverage of the simple
    methods, also for small samples and extreme scores. *Our choice:* the
    reported ``score`` stays the plain NPS that every report shows, while
    ``low``/``high``/``se`` come from the adjusted estimate, so the interval is
    centred on the adjusted NPS (slightly pulled towards 0), as in Rocks.
``"wald"``
    The textbook interval ``nps +- z * sqrt(var / n)``.
``"bootstrap"``
    Percentile bootstrap: multinomial resampling of the three counts
    (vectorised), reproducible with ``seed``.

Intervals are clipped to [-100, 100]. Below ``min_n`` answers no number is
reported: ``too_few`` is True and ``message`` says why (never NaN).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import DEFAULT_MIN_N, check_confidence, check_count, check_min_n, too_few_message
from .errors import AnalyticsInputError

NPS_METHODS = ("adjusted-wald", "wald", "bootstrap")

# Rocks (2016): pseudo-counts added before the Wald interval (total 3).
_ADJUST_DETRACTORS = 0.75
_ADJUST_PASSIVES = 1.5
_ADJUST_PROMOTERS = 0.75


@dataclass(frozen=True)
class NpsResult:
    """An NPS with its interval, all in NPS points (-100..100).

    ``score``, ``low``, ``high`` and ``se`` are None when ``too_few`` is True;
    ``message`` then explains why ("too few answers (n=12 < 30)").
    """

    score: float | None
    low: float | None
    high: float | None
    se: float | None
    n: int
    method: str
    confidence: float
    detractors: int
    passives: int
    promoters: int
    too_few: bool = False
    message: str | None = None


class NpsCounts(NamedTuple):
    """Counts of the three NPS groups, plus answers left out as missing."""

    detractors: int
    passives: int
    promoters: int
    missing: int = 0


def _shares(detractors: float, passives: float, promoters: float) -> tuple[float, float, float]:
    total = detractors + passives + promoters
    if total <= 0:
        raise AnalyticsInputError("there are no answers: detractors, passives and promoters are all 0")
    return detractors / total, passives / total, promoters / total


def nps_answer_variance(detractors: float, passives: float, promoters: float) -> float:
    """Per-answer variance of the NPS variable (+1/0/-1), on the -1..1 scale.

    Accepts counts or shares. For shares (1/6, 1/3, 1/2) it is 5/9.
    Divide by n for the variance of the NPS itself.
    """
    for name, value in (("detractors", detractors), ("passives", passives), ("promoters", promoters)):
        if not np.isfinite(value) or value < 0:
            raise AnalyticsInputError(f"{name} must be a non-negative number, got {value!r}")
    p_det, _, p_pro = _shares(detractors, passives, promoters)
    return p_pro + p_det - (p_pro - p_det) ** 2


def nps_answer_sd(detractors: float, passives: float, promoters: float) -> float:
    """Per-answer standard deviation of the NPS variable, in NPS points.

    For shares (1/6, 1/3, 1/2) it is sqrt(5/9) * 100 = 74.5 points.
    """
    return float(np.sqrt(nps_answer_variance(detractors, passives, promoters)) * 100.0)


def nps(
    detractors: int,
    passives: int,
    promoters: int,
    method: str = "adjusted-wald",
    confidence: float = 0.95,
    *,
    min_n: int = DEFAULT_MIN_N,
    n_boot: int = 10_000,
    seed: int | None = None,
) -> NpsResult:
    """NPS and its confidence interval from the counts of the three groups.

    Args:
        detractors, passives, promoters: counts of answers 0-6, 7-8, 9-10.
        method: "adjusted-wald" (Rocks 2016, default), "wald" or "bootstrap".
        confidence: two-sided confidence level, e.g. 0.95.
        min_n: below this many answers the result carries ``too_few`` and a
            message instead of numbers.
        n_boot, seed: bootstrap replicates and random seed ("bootstrap" only).
    """
    det = check_count(detractors, "detractors")
    pas = check_count(passives, "passives")
    pro = check_count(promoters, "promoters")
    conf = check_confidence(confidence)
    threshold = check_min_n(min_n)
    if method not in NPS_METHODS:
        raise AnalyticsInputError(
            f"unknown NPS interval method {method!r}; choose one of {', '.join(NPS_METHODS)}"
        )
    n = det + pas + pro
    common = dict(n=n, method=method, confidence=conf, detractors=det, passives=pas, promoters=pro)
    if n < threshold:
        return NpsResult(None, None, None, None, too_few=True,
                         message=too_few_message(n, threshold), **common)

    score = (pro - det) / n
    z = stats.norm.ppf(0.5 + conf / 2.0)
    if method == "wald":
        se = np.sqrt(nps_answer_variance(det, pas, pro) / n)
        low, high = score - z * se, score + z * se
    elif method == "adjusted-wald":
        a_det, a_pas, a_pro = det + _ADJUST_DETRACTORS, pas + _ADJUST_PASSIVES, pro + _ADJUST_PROMOTERS
        n_adj = n + _ADJUST_DETRACTORS + _ADJUST_PASSIVES + _ADJUST_PROMOTERS
        centre = (a_pro - a_det) / n_adj
        se = np.sqrt(nps_answer_variance(a_det, a_pas, a_pro) / n_adj)
        low, high = centre - z * se, centre + z * se
    else:
        n_boot = check_count(n_boot, "n_boot")
        if n_boot < 100:
            raise AnalyticsInputError(f"n_boot must be at least 100 for a bootstrap interval, got {n_boot}")
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, [det / n, pas / n, pro / n], size=n_boot)
        replicates = (draws[:, 2] - draws[:, 0]) / n
        alpha = 1.0 - conf
        low, high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0])
        se = replicates.std(ddof=1)
    return NpsResult(
        score=float(score * 100.0),
        low=float(np.clip(low * 100.0, -100.0, 100.0)),
        high=float(np.clip(high * 100.0, -100.0, 100.0)),
        se=float(se * 100.0),
        **common,
    )


def nps_counts(scores: Iterable[float] | pd.Series) -> NpsCounts:
    """Count detractors (0-6), passives (7-8) and promoters (9-10) in 0-10 answers.

    Missing answers (None/NaN) are counted in ``missing`` and left out. Any other
    value that is not a whole number from 0 to 10 is an error naming its row.
    """
    series = scores if isinstance(scores, pd.Series) else pd.Series(list(scores), dtype=object)
    missing = series.isna()
    values = pd.to_numeric(series, errors="coerce")
    whole_0_10 = values.notna() & (values % 1 == 0) & values.between(0, 10)
    bad = ~missing & ~whole_0_10
    if bad.any():
        row = bad.index[bad.to_numpy().argmax()]
        raise AnalyticsInputError(
            f"row {row!r}: an NPS answer must be a whole number from 0 to 10, got {series.loc[row]!r}"
        )
    valid = values[~missing]
    return NpsCounts(
        detractors=int((valid <= 6).sum()),
        passives=int(((valid >= 7) & (valid <= 8)).sum()),
        promoters=int((valid >= 9).sum()),
        missing=int(missing.sum()),
    )


def nps_from_scores(scores: Iterable[float] | pd.Series, **kwargs) -> NpsResult:
    """NPS and interval straight from 0-10 answers; keyword arguments go to :func:`nps`."""
    counts = nps_counts(scores)
    return nps(counts.detractors, counts.passives, counts.promoters, **kwargs)
