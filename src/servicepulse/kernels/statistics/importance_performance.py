"""Importance-performance grid: where to act, given driver importance and scores.

Each driver lands in one of four quadrants by comparing its importance (e.g.
its share of R-squared) and its performance (e.g. its mean score) with a cut
each (by default the mean over the drivers; pass a norm such as 7.0 as
``performance_cut`` to judge scores against it). Values on a cut count as high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .compare import adjust_pvalues
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
            "quadrant": [label[0] for label in labels],
            "label_en": [label[1] for label in labels],
            "label_nl": [label[2] for label in labels],
        },
        index=imp.index,
    )
    table.attrs = {"importance_cut": imp_cut, "performance_cut": perf_cut}
    return table


# -- the key-driver grid: direction, performance against a norm, significance ---------------------------

HARMFUL, HELPFUL = "harmful", "helpful"
FACT, MOMENT = "fact", "moment"
# A harmful case fact is "on norm" when it happens in at most this share of cases; a helpful one when it
# happens in at least this share. Moments are judged against their own norm.
HARMFUL_NORM = 0.10
HELPFUL_NORM = 0.50
# A significant factor is "important" when it carries at least this share (%) of the explained variance.
IMPORTANCE_FLOOR = 5.0

DRIVER_QUADRANTS: dict[str, tuple[str, str]] = {
    "priority": ("priority: matters and below its norm", "prioriteit: doet ertoe en zit onder de norm"),
    "strength": ("on norm: matters, keep it there", "op norm: doet ertoe, zo houden"),
    "low_priority": ("low priority: small effect, below its norm", "lage prioriteit: klein effect, onder de norm"),
    "possible_overkill": ("no action: small effect, on norm", "geen actie: klein effect, op norm"),
    "not_significant": ("not significant after correction: no conclusion",
                        "niet significant na correctie: geen conclusie"),
    "overlap": ("overlaps with other factors: its own effect cannot be told apart",
                "overlapt met andere factoren: eigen effect niet te onderscheiden"),
}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def driver_grid(
    factors: pd.DataFrame,
    *,
    alpha: float = 0.05,
    correction: str = "holm",
    importance_floor: float = IMPORTANCE_FLOOR,
    harmful_norm: float = HARMFUL_NORM,
    helpful_norm: float = HELPFUL_NORM,
    correlations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Quadrant per key-driver factor, with every factor's performance meaning "good" the same way.

    ``factors`` is indexed by factor with columns ``importance`` (% of R-squared), ``slope`` (partial
    regression slope), ``p_value`` (of the slope), ``univariate`` (the slope of the outcome on the factor
    alone), ``kind`` ("fact": a 0/1 case fact, "moment": a moment score), ``value`` (facts: the share of
    cases with the fact, the prevalence; moments: the mean score), ``direction`` ("harmful"/"helpful"; a
    missing one is read from the univariate effect) and, for moments, ``norm``.

    Performance is "good" upwards for every factor: a harmful fact performs by how rarely it happens
    (1 - prevalence, norm ``1 - harmful_norm``), a helpful fact by how often (norm ``helpful_norm``), a
    moment by its score against its own norm. ``gap`` is performance minus norm (share of cases for facts,
    score points for moments).

    Significance: the slopes' p-values are corrected for the number of factors (``correction``: "holm" or
    "bh", Benjamini-Hochberg); a factor with a corrected p at or above ``alpha`` is "not_significant" and
    never a priority. A factor whose partial slope points against its direction (a helpful fact that seems
    to hurt once the others are held fixed: collinearity) is "overlap", with a note naming the factor it
    overlaps most with; its univariate effect is kept beside the partial one. The others: "priority"
    (importance at least ``importance_floor`` and below norm), "strength" (important, on norm),
    "low_priority", "possible_overkill".
    """
    required = ("importance", "slope", "p_value", "univariate", "kind", "value")
    absent = [c for c in required if c not in factors.columns]
    if absent:
        raise AnalyticsInputError("the factor table is missing the column(s): " + ", ".join(absent))
    if factors.empty:
        raise AnalyticsInputError("no drivers given")
    table = factors.copy()
    if "direction" not in table.columns:
        table["direction"] = None
    if "norm" not in table.columns:
        table["norm"] = np.nan
    table["direction"] = [
        d if d in (HARMFUL, HELPFUL) else (HARMFUL if u < 0 else HELPFUL)
        for d, u in zip(table["direction"], table["univariate"])
    ]
    p = pd.to_numeric(table["p_value"], errors="coerce").astype(float)
    adjusted = pd.Series(np.nan, index=table.index)
    ok = p.notna()
    if ok.any():
        adjusted[ok] = adjust_pvalues(p[ok].to_list(), correction)
    table["p_adjusted"] = adjusted
    table["correction"] = correction
    perf, norm = [], []
    for _, rec in table.iterrows():
        value = float(rec["value"])
        if rec["kind"] == FACT:
            if rec["direction"] == HARMFUL:
                perf.append(1.0 - value)
                norm.append(1.0 - harmful_norm)
            else:
                perf.append(value)
                norm.append(helpful_norm)
        else:
            perf.append(value)
            norm.append(float(rec["norm"]))
    table["performance"] = perf
    table["performance_norm"] = norm
    table["gap"] = table["performance"] - table["performance_norm"]
    sign = np.where(table["direction"] == HARMFUL, -1.0, 1.0)
    table["against_direction"] = (np.sign(table["slope"].astype(float)) == -sign) & (table["slope"] != 0)
    table["univariate_against"] = np.sign(table["univariate"].astype(float)) == -sign
    codes, notes_en, notes_nl = [], [], []
    for name, rec in table.iterrows():
        note_en = note_nl = ""
        partner = _partner(correlations, name)
        significant = bool(rec["p_adjusted"] < alpha)
        if not significant:
            code = "not_significant"
            note_en = (f"corrected p = {format_p(rec['p_adjusted'])} ({_CORRECTION_EN[correction]}), "
                       f"not below {alpha:g}: no conclusion")
            note_nl = (f"gecorrigeerde p = {format_p(rec['p_adjusted'], 'nl')} ({_CORRECTION_NL[correction]}), "
                       f"niet onder {str(alpha).replace('.', ',')}: geen conclusie")
        if rec["against_direction"]:
            code = "overlap" if significant else code
            with_en = f" (most with {partner[0]!s}, r = {partner[1]:+.2f})" if partner else ""
            with_nl = f" (het sterkst met {partner[0]!s}, r = {_nl2(partner[1])})" if partner else ""
            sep = "; " if note_en else ""
            note_en += (f"{sep}alone {rec['univariate']:+.2f}, with the other factors held fixed {rec['slope']:+.2f}: "
                        f"it overlaps with other factors{with_en}, so the opposite sign is not its own effect")
            note_nl += (f"{sep}los {_nl2(rec['univariate'])}, met de andere factoren gelijk gehouden "
                        f"{_nl2(rec['slope'])}: overlapt met andere factoren{with_nl}, dus het omgekeerde teken is "
                        "niet het eigen effect")
        elif significant:
            high_imp = float(rec["importance"]) >= importance_floor
            high_perf = float(rec["gap"]) >= 0
            code = QUADRANTS[(high_imp, high_perf)][0]
        codes.append(code)
        notes_en.append(note_en)
        notes_nl.append(note_nl)
    table["quadrant"] = codes
    table["label_en"] = [DRIVER_QUADRANTS[c][0] for c in codes]
    table["label_nl"] = [DRIVER_QUADRANTS[c][1] for c in codes]
    table["note_en"] = notes_en
    table["note_nl"] = notes_nl
    table.attrs = {"importance_cut": float(importance_floor), "alpha": alpha, "correction": correction,
                   "harmful_norm": harmful_norm, "helpful_norm": helpful_norm}
    return table


_CORRECTION_EN = {"holm": "Holm", "bh": "Benjamini-Hochberg"}
_CORRECTION_NL = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def _partner(correlations: pd.DataFrame | None, name) -> tuple[str, float] | None:
    if correlations is None or name not in correlations.index:
        return None
    row = correlations.loc[name].drop(labels=[name], errors="ignore").dropna()
    if row.empty:
        return None
    other = row.abs().idxmax()
    return str(other), float(row[other])


def _nl2(x: float) -> str:
    return f"{x:+.2f}".replace(".", ",")


def format_p(p: float | None, language: str = "en") -> str:
    """A p-value as people read it: "< 0.001" below a thousandth, else three decimals (Dutch comma in nl)."""
    if p is None or not np.isfinite(p):
        return "–"
    text = "< 0.001" if p < 0.001 else f"{p:.3f}"
    return text.replace(".", ",") if language == "nl" else text
