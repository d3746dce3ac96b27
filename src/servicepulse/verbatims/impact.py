"""Theme impact: per theme its volume, trend and effect on NPS, grade and CES.

The effect is the difference between comments that mention the theme and
commented responses that do not (with theme minus without), with its 95%
interval: NPS by `compare_nps` (adjusted Wald), grade and CES by Welch's t
from the SQL sums (`compare_means_from_stats`). The aggregates run in the
database; only a handful of numbers per theme reach Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from servicepulse.kernels.statistics.compare import (
    ComparisonResult,
    compare_means_from_stats,
    compare_nps,
)
from servicepulse.kernels.text import CodeFrame
from servicepulse.verbatims import repository
from servicepulse.verbatims.repository import VerbatimFilter


@dataclass(frozen=True)
class ThemeImpact:
    theme: str
    label: str
    parent: str | None
    comments: int            # comments mentioning the theme
    share: float             # of all analysed comments in the selection
    negative_share: float    # of those comments, the share with a negative overall sentiment
    nps: ComparisonResult
    grade: ComparisonResult
    ces: ComparisonResult
    trend: tuple[tuple[str, int, float], ...]  # (YYYY-MM, comments, share of that month's comments)


def leaf_groups(codeframe: CodeFrame) -> dict[str, list[str]]:
    """theme key -> the leaf themes whose mentions count for it (itself and every descendant)."""
    out: dict[str, list[str]] = {k: [] for k in codeframe.keys}
    for t in codeframe.themes:
        for k in [t.key, *codeframe.ancestors(t.key)]:
            out[k].append(t.key)
    return out


def _sd(n: int, s: int, sq: int) -> float:
    if n < 2:
        return 0.0
    return math.sqrt(max(0.0, (sq - s * s / n) / (n - 1)))


def _mean_compare(with_: dict, all_: dict, score: str, min_n: int) -> ComparisonResult:
    n_b, s_b, q_b = with_[f"{score}_n"], with_[f"{score}_sum"], with_[f"{score}_sq"]
    n_a, s_a, q_a = all_[f"{score}_n"] - n_b, all_[f"{score}_sum"] - s_b, all_[f"{score}_sq"] - q_b
    mean = lambda s, n: s / n if n else 0.0  # noqa: E731
    return compare_means_from_stats(mean(s_a, n_a), _sd(n_a, s_a, q_a), n_a, mean(s_b, n_b), _sd(n_b, s_b, q_b), n_b,
                                    min_n=min_n)


def compare_groups(with_: dict, all_: dict, min_n: int) -> tuple[ComparisonResult, ComparisonResult, ComparisonResult]:
    """(NPS, grade, CES) of the comments `with_` a theme against the rest of `all_`."""
    b = (with_["detractors"], with_["passives"], with_["promoters"])
    a = (all_["detractors"] - b[0], all_["passives"] - b[1], all_["promoters"] - b[2])
    return (compare_nps(a, b, min_n=min_n), _mean_compare(with_, all_, "grade", min_n),
            _mean_compare(with_, all_, "ces", min_n))


def theme_impact(session: Session, codeframe: CodeFrame, f: VerbatimFilter | None = None, *, min_n: int = 30,
                 language: str = "en", themes: list[str] | None = None) -> tuple[list[ThemeImpact], dict]:
    """(impact per theme in code-frame order, totals over all analysed comments in the selection)."""
    f = f or VerbatimFilter()
    groups = leaf_groups(codeframe)
    if themes is not None:
        groups = {k: v for k, v in groups.items() if k in themes}
    totals = repository.score_totals(session, f)
    per = repository.score_totals_by_theme(session, f, groups)
    month_totals, month_per = repository.monthly_counts(session, f, groups)
    months = sorted(month_totals)
    out = []
    for key in groups:
        w = per.get(key)
        if w is None:
            continue
        nps, grade, ces = compare_groups(w, totals, min_n)
        trend = tuple((f"{y:04d}-{m:02d}", month_per[key].get((y, m), 0),
                       month_per[key].get((y, m), 0) / month_totals[(y, m)]) for y, m in months)
        theme = codeframe.theme(key)
        out.append(ThemeImpact(
            theme=key, label=theme.label(language), parent=theme.parent, comments=w["n"],
            share=w["n"] / totals["n"] if totals["n"] else 0.0,
            negative_share=w["negative"] / w["n"] if w["n"] else 0.0,
            nps=nps, grade=grade, ces=ces, trend=trend,
        ))
    return out, totals
