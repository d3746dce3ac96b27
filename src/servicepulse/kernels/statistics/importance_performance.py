"""Importance-performance grid: where to act, given driver importance and scores.

Each driver lands in one of four quadrants by comparing its importance (e.g.
its share of R-squared) and its performance (e.g. its mean score) with a cut
each (by default the mean over the drivers; pass a norm such as 7.0 as
``performance_cut`` to judge scores against it). Values on a cut count as high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import AnalyticsInputError

QUADRANTS: dict[tuple[bool, bool], tuple[str, str, str]] = {
    # (high importance, high performance): (code, English, Dutch)
    (True, False): ("priority", "priority: high importance, low performance",
                    "prioriteit: belangrijk, lage prestatie"),
    (True, True): ("strength", "strength: high importance, high performance: keep it up",
                   "sterkte: belangrijk en goed: zo houden"),
    (False, False): ("low_priority", "low priority: low importance, low performance",
                     "lage prioriteit: minder belangrijk, lage prestatie"),
    (False, True): ("possible_overkill", "possible overkill: low importance, high performance",
                    "mogelijk overinvestering: minder belangrijk, hoge prestatie"),
}


def importance_performance(
    importance: pd.Series,
    performance: pd.Series,
    importance_cut: float | None = None,
    performance_cut: float | None = None,
) -> pd.DataFrame:
    """Quadrant per driver.

    Returns a DataFrame indexed by driver with ``importance``, ``performance``,
    ``quadrant`` (code), ``label_en`` and ``label_nl``; ``.attrs`` holds the
    cuts used.
    """
    if not isinstance(importance, pd.Series) or not isinstance(performance, pd.Series):
        raise AnalyticsInputError("importance and performance must be pandas Series indexed by driver name")
    only_imp = importance.index.difference(performance.index)
    only_perf = performance.index.difference(importance.index)
    if len(only_imp) or len(only_perf):
        parts = []
        if len(only_imp):
            parts.append("no performance for " + ", ".join(map(repr, only_imp)))
        if len(only_perf):
            parts.append("no importance for " + ", ".join(map(repr, only_perf)))
        raise AnalyticsInputError("importance and performance must cover the same drivers: " + "; ".join(parts))
    if importance.empty:
        raise AnalyticsInputError("no drivers given")
    imp = pd.to_numeric(importance, errors="coerce").astype(float)
    perf = pd.to_numeric(performance, errors="coerce").astype(float).reindex(imp.index)
    for series, what in ((imp, "importance"), (perf, "performance")):
        bad = ~np.isfinite(series)
        if bad.any():
            raise AnalyticsInputError(f"{what} is missing or not a number for driver(s): "
                                      + ", ".join(map(repr, series.index[bad])))
    imp_cut = float(imp.mean()) if importance_cut is None else float(importance_cut)
    perf_cut = float(perf.mean()) if performance_cut is None else float(performance_cut)
    labels = [QUADRANTS[(bool(i >= imp_cut), bool(p >= perf_cut))] for i, p in zip(imp, perf)]
    table = pd.DataFrame(
        {
            "importance": imp,
            "performance": perf,
            "quadrant": [l[0] for l in labels],
            "label_en": [l[1] for l in labels],
            "label_nl": [l[2] for l in labels],
        },
        index=imp.index,
    )
    table.attrs = {"importance_cut": imp_cut, "performance_cut": perf_cut}
    return table
