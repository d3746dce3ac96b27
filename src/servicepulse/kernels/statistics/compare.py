"""Is a change real? Differences between two periods or two segments.

All differences are ``b - a``: pass the earlier period (or the reference
segment) as ``a``. Each test returns a :class:`ComparisonResult`; many results
go through :func:`compare_many` for a multiple-comparison correction (Holm or
Benjamini-Hochberg), because scanning twenty segments at alpha 0.05 will
"find" one by chance.

- NPS: z-test on the difference of two NPS with SE ``sqrt(var_a/n_a + var_b/n_b)``
  from the per-answer variances. With ``method="adjusted-wald"`` (default)
  both groups get Rocks' (2016) pseudo-counts before the SE, the z statistic
  and the interval are computed (as MeasuringU recommends for comparing two
  NPS); the reported ``difference`` is the plain one.
- Shares: two-proportion z-test with the pooled SE (identical to the Pearson
  chi-square test on the 2x2 table without continuity correction); interval
  by Newcombe's (1998) hybrid score method built from two Wilson intervals.
- Means: Welch's t-test (unequal variances), Welch-Satterthwaite df.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import DEFAULT_MIN_N, check_confidence, check_count, check_min_n, too_few_message
from ._values import numeric_values
from .errors import AnalyticsInputError
from .intervals import wilson
from .nps import nps_answer_variance

CORRECTIONS = ("holm", "bh")
_GROUP_NAMES = ("the first group (a)", "the second group (b)")


@dataclass(frozen=True)
class ComparisonResult:
    """Difference ``b - a`` with its interval and a two-sided test.

    Units: NPS points for "nps", shares 0..1 for "share", the scale for "mean".
    ``statistic``/``p_value``/``low``/``high``/``se`` are None when no test is
    possible (``too_few`` or no spread at all); ``message`` then says why.
    ``df`` is set for the t-test only.
    """

    measure: str
    test: str
    estimate_a: float | None
    estimate_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    se: float | None
    statistic: float | None
    p_value: float | None
    n_a: int
    n_b: int
    confidence: float
    df: float | None = None
    too_few: bool = False
    message: str | None = None


def _z(conf: float) -> float:
    return float(stats.norm.ppf(0.5 + conf / 2.0))


def _too_few(measure: str, test: str, n_a: int, n_b: int, threshold: int, conf: float,
             what: str = "answers") -> ComparisonResult | None:
    for name, n in zip(_GROUP_NAMES, (n_a, n_b)):
        if n < threshold:
            return ComparisonResult(measure, test, None, None, None, None, None, None, None, None,
                                    n_a, n_b, conf, too_few=True,
                                    message=f"{too_few_message(n, threshold, what)} in {name}")
    return None


def _no_spread(measure, test, est_a, est_b, diff, n_a, n_b, conf) -> ComparisonResult:
    return ComparisonResult(measure, test, est_a, est_b, diff, None, None, None, None, None, n_a, n_b, conf,
                            message="no test possible: all answers are the same in both groups")


def _nps_triplet(counts: Sequence[int], name: str) -> tuple[int, int, int]:
    if len(counts) < 3:
        raise AnalyticsInputError(f"{name}: give the NPS counts as (detractors, passives, promoters)")
    return tuple(check_count(c, f"{name} {field}")  # type: ignore[return-value]
                 for c, field in zip(counts[:3], ("detractors", "passives", "promoters")))


def compare_nps(
    a: Sequence[int],
    b: Sequence[int],
    method: str = "adjusted-wald",
    confidence: float = 0.95,
    *,
    min_n: int = DEFAULT_MIN_N,
) -> ComparisonResult:
    """z-test and interval for the change in NPS from ``a`` to ``b``.

    ``a`` and ``b`` are (detractors, passives, promoters) counts, e.g. an
    :class:`~servicepulse.kernels.statistics.nps.NpsCounts`.
    """
    if method not in ("adjusted-wald", "wald"):
        raise AnalyticsInputError(f"unknown method {method!r} for comparing NPS; choose 'adjusted-wald' or 'wald'")
    conf = check_confidence(confidence)
    threshold = check_min_n(min_n)
    ca, cb = _nps_triplet(a, "a"), _nps_triplet(b, "b")
    n_a, n_b = sum(ca), sum(cb)
    test = f"z ({method})"
    early = _too_few("nps", test, n_a, n_b, threshold, conf)
    if early:
        return early
    score_a = (ca[2] - ca[0]) / n_a
    score_b = (cb[2] - cb[0]) / n_b
    pseudo = (0.75, 1.5, 0.75) if method == "adjusted-wald" else (0.0, 0.0, 0.0)
    adj_a = [c + p for c, p in zip(ca, pseudo)]
    adj_b = [c + p for c, p in zip(cb, pseudo)]
    na_adj, nb_adj = sum(adj_a), sum(adj_b)
    centre = (adj_b[2] - adj_b[0]) / nb_adj - (adj_a[2] - adj_a[0]) / na_adj
    se = float(np.sqrt(nps_answer_variance(*adj_a) / na_adj + nps_answer_variance(*adj_b) / nb_adj))
    diff = (score_b - score_a) * 100.0
    if se == 0.0:
        return _no_spread("nps", test, score_a * 100, score_b * 100, diff, n_a, n_b, conf)
    z = centre / se
    half = _z(conf) * se
    return ComparisonResult(
        "nps", test, score_a * 100.0, score_b * 100.0, diff,
        low=float(max(-200.0, (centre - half) * 100.0)),
        high=float(min(200.0, (centre + half) * 100.0)),
        se=se * 100.0, statistic=float(z), p_value=float(2.0 * stats.norm.sf(abs(z))),
        n_a=n_a, n_b=n_b, confidence=conf,
    )


def compare_shares(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N
) -> ComparisonResult:
    """Two-proportion z-test (pooled SE) and Newcombe hybrid-score interval for ``p_b - p_a``."""
    conf = check_confidence(confidence)
    threshold = check_min_n(min_n)
    ka, na = check_count(successes_a, "successes_a"), check_count(n_a, "n_a")
    kb, nb = check_count(successes_b, "successes_b"), check_count(n_b, "n_b")
    for k, n, name in ((ka, na, "a"), (kb, nb, "b")):
        if k > n:
            raise AnalyticsInputError(f"successes_{name} ({k}) cannot exceed n_{name} ({n})")
    test = "two-proportion z"
    early = _too_few("share", test, na, nb, threshold, conf)
    if early:
        return early
    pa, pb = ka / na, kb / nb
    pooled = (ka + kb) / (na + nb)
    se_pooled = np.sqrt(pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb))
    if se_pooled == 0.0:
        return _no_spread("share", test, pa, pb, pb - pa, na, nb, conf)
    z = (pb - pa) / se_pooled
    # Newcombe (1998b), method 10: combine the Wilson limits of both shares.
    wa, wb = wilson(ka, na, conf, min_n=1), wilson(kb, nb, conf, min_n=1)
    diff = pb - pa
    low = diff - np.sqrt((pb - wb.low) ** 2 + (wa.high - pa) ** 2)
    high = diff + np.sqrt((wb.high - pb) ** 2 + (pa - wa.low) ** 2)
    return ComparisonResult(
        "share", test, pa, pb, diff, float(low), float(high),
        se=float(np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)),
        statistic=float(z), p_value=float(2.0 * stats.norm.sf(abs(z))),
        n_a=na, n_b=nb, confidence=conf,
    )


def compare_means_from_stats(
    mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int,
    confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N,
) -> ComparisonResult:
    """Welch t-test and interval for ``mean_b - mean_a`` from summary statistics.

    ``sd_a``/``sd_b`` are sample standard deviations (n - 1 denominator), as
    SQL ``stddev_samp`` returns them.
    """
    conf = check_confidence(confidence)
    threshold = max(check_min_n(min_n), 2)
    na, nb = check_count(n_a, "n_a"), check_count(n_b, "n_b")
    test = "Welch t"
    early = _too_few("mean", test, na, nb, threshold, conf)
    if early:
        return early
    for value, name in ((mean_a, "mean_a"), (sd_a, "sd_a"), (mean_b, "mean_b"), (sd_b, "sd_b")):
        if not np.isfinite(value) or (name.startswith("sd") and value < 0):
            raise AnalyticsInputError(f"{name} must be a finite number{' >= 0' if name.startswith('sd') else ''}, got {value!r}")
    va, vb = sd_a ** 2 / na, sd_b ** 2 / nb
    se = float(np.sqrt(va + vb))
    diff = float(mean_b - mean_a)
    if se == 0.0:
        return _no_spread("mean", test, float(mean_a), float(mean_b), diff, na, nb, conf)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    t = diff / se
    half = float(stats.t.ppf(0.5 + conf / 2.0, df)) * se
    return ComparisonResult(
        "mean", test, float(mean_a), float(mean_b), diff, diff - half, diff + half, se,
        statistic=float(t), p_value=float(2.0 * stats.t.sf(abs(t), df)),
        n_a=na, n_b=nb, confidence=conf, df=float(df),
    )


def compare_means(
    a: Iterable[float], b: Iterable[float], confidence: float = 0.95, *, min_n: int = DEFAULT_MIN_N
) -> ComparisonResult:
    """Welch t-test for ``mean(b) - mean(a)``; missing values are left out."""
    xa, _ = numeric_values(a, "a")
    xb, _ = numeric_values(b, "b")
    sd = lambda x: float(x.std(ddof=1)) if x.size > 1 else 0.0  # noqa: E731
    mean = lambda x: float(x.mean()) if x.size else 0.0  # noqa: E731
    return compare_means_from_stats(mean(xa), sd(xa), xa.size, mean(xb), sd(xb), xb.size,
                                    confidence, min_n=min_n)


def adjust_pvalues(pvalues: Iterable[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values for a family of tests, in the input order.

    ``"holm"``: Holm (1979) step-down, controls the family-wise error rate.
    ``"bh"``: Benjamini-Hochberg (1995) step-up, controls the false discovery rate.
    """
    if method not in CORRECTIONS:
        raise AnalyticsInputError(f"unknown correction {method!r}; choose 'holm' or 'bh'")
    p = np.asarray(list(pvalues), dtype=float)
    if p.ndim != 1:
        raise AnalyticsInputError("p-values must be a flat list of numbers")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise AnalyticsInputError(f"p-value number {i + 1} must be between 0 and 1, got {p[i]!r}")
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        adjusted = np.maximum.accumulate(np.minimum(1.0, (m - rank + 1) * ranked))
    else:
        adjusted = np.minimum.accumulate(np.minimum(1.0, m / rank * ranked)[::-1])[::-1]
    out = np.empty(m)
    out[order] = adjusted
    return out


def compare_many(
    results: Mapping[str, ComparisonResult], correction: str = "holm", alpha: float = 0.05
) -> pd.DataFrame:
    """Table of comparisons with adjusted p-values, one row per label.

    Comparisons without a test (too few answers, no spread) stay in the table
    with empty (``<NA>``) p-values, ``significant`` False and their message;
    they do not count in the correction family.
    """
    if not 0.0 < alpha < 1.0:
        raise AnalyticsInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    rows = {label: asdict(result) for label, result in results.items()}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    if frame.empty:
        return frame.assign(p_adjusted=pd.Series(dtype="Float64"), significant=pd.Series(dtype=bool))
    tested = frame["p_value"].notna()
    adjusted = pd.Series(pd.NA, index=frame.index, dtype="Float64")
    adjusted[tested] = adjust_pvalues(frame.loc[tested, "p_value"].astype(float), correction)
    numeric = ["estimate_a", "estimate_b", "difference", "low", "high", "se", "statistic", "p_value", "df"]
    frame[numeric] = frame[numeric].astype("Float64")
    frame["p_adjusted"] = adjusted
    frame["message"] = frame["message"].astype(object).where(frame["message"].notna(), None)
    frame["significant"] = (adjusted < alpha).fillna(False).astype(bool)
    frame["correction"] = correction
    return frame


def compare_nps_segments(
    counts: pd.DataFrame,
    against: str | None = None,
    correction: str = "holm",
    method: str = "adjusted-wald",
    confidence: float = 0.95,
    *,
    min_n: int = DEFAULT_MIN_N,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare each segment's NPS with the rest (default) or one reference segment.

    ``counts`` has one row per segment (the index) and columns ``detractors``,
    ``passives``, ``promoters``. In each row ``a`` is the reference (the rest,
    or segment ``against``) and ``b`` the segment, so a positive difference
    means the segment scores higher.
    """
    needed = ["detractors", "passives", "promoters"]
    missing = [c for c in needed if c not in counts.columns]
    if missing:
        raise AnalyticsInputError(f"segment counts are missing the column(s): {', '.join(missing)}")
    if against is not None and against not in counts.index:
        raise AnalyticsInputError(f"reference segment {against!r} is not among the segments")
    table = counts[needed]
    total = table.sum()
    results = {}
    for segment, row in table.iterrows():
        if segment == against:
            continue
        reference = table.loc[against] if against is not None else total - row
        results[segment] = compare_nps(tuple(reference), tuple(row), method, confidence, min_n=min_n)
    return compare_many(results, correction, alpha)
