"""The investment compass: per moment, where a euro does the most good.

Per moment: its mean grade against its norm (7 for a functional moment, 9 for an emotional one, or the
moment's own), its kind, volume (answers and cases), cost per case (the events at that moment, `costs.py`)
and its driver impact (the slope of the overall score on the journey's moment grades, with its standard
error: `servicepulse.metrics.moment_facts`, the same facts the improvement scan uses). The label, first rule
that holds:

- ``fix_basics``: any moment below 7 (of either kind: the home page and the moment view call these "below the
  basics" too), or a functional moment below its own norm;
- ``under_invested``: an emotional moment from 7 up to below its norm whose slope is significantly positive
  (p < 0.05): where to invest;
- ``over_invested``: a functional moment at least ``OVER_MARGIN`` above its norm that costs more per case than
  the median moment: where to save;
- ``keep``: the rest (and ``unknown`` with too few answers).

The labels read the slope of the recommendation score (0-10). The expected effect is told in NPS points
(promoters% - detractors%) or grade points (the overall 1-10 grade), ``measure``: raising a moment to its norm
(``fix_basics``) or by one point up to its norm (``under_invested``) moves that measure by slope x points for
every customer who meets the moment, the slope of the measure on the journey's moment grades with its 95%
delta-method interval (HC3 standard error; `effect.py`); an over-invested moment that is allowed to drop to
its norm loses slope x (norm - score) and saves what its cases cost above the median moment's cost per case (each case
capped at that median: sum of max(cost - median, 0); cheap cases save nothing), with a bootstrap interval over
its cases. Euros are those of the period analysed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from servicepulse.investment.effect import Slope, effect_interval

LABELS = ("fix_basics", "under_invested", "over_invested", "keep", "unknown")
BASICS = 7.0  # below a 7 the basics are not in order, whatever the moment's kind (the 7+/9+ rule)
OVER_MARGIN = 0.25  # grade points above the norm that count as "well above" for a functional moment
SIGNIFICANCE = 0.05
BOOTSTRAP = 400


@dataclass
class CompassRow:
    moment_id: int
    key: str
    journey_id: int
    name: str
    kind: str
    norm: float
    score: float | None
    n: int
    slope: float
    slope_se: float | None
    p_value: float | None
    cases: int
    cost: float  # euros in the period
    cost_per_case: float | None
    cost_low: float | None  # 95% bootstrap interval of the cost per case
    cost_high: float | None
    label: str = "unknown"
    target: float | None = None  # the grade aimed at
    measure: str = "nps"  # the unit of the effect: NPS points or grade points
    effect_slope: Slope | None = None  # the measure's slope on this moment's grade
    effect: float | None = None  # NPS or grade points among the customers meeting the moment
    effect_low: float | None = None
    effect_high: float | None = None
    saving: float | None = None  # euros in the period (over-invested)
    saving_low: float | None = None
    saving_high: float | None = None

    @property
    def gap(self) -> float | None:
        return None if self.score is None else self.score - self.norm


def _bootstrap_mean(values: np.ndarray, rng: np.random.Generator) -> tuple[float | None, float | None]:
    if len(values) < 2:
        return None, None
    idx = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
    means = values[idx].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def case_costs(events: pd.DataFrame) -> pd.DataFrame:
    """Cost per (moment, case) over the events that carry a moment."""
    tagged = events.dropna(subset=["moment_id"])
    return tagged.groupby([tagged["moment_id"].astype(int), "case_id"])["cost"].sum().rename("cost").reset_index()


def compass(facts: dict, moments: pd.DataFrame, events: pd.DataFrame, language: str = "nl",
            seed: int = 18, slopes: dict[int, Slope] | None = None, measure: str = "nps") -> list[CompassRow]:
    """One row per moment with answers or costs. ``facts``: moment id -> `MomentFacts` (metrics.moment_facts,
    outcome nps: the labels); ``moments``: `repository.moment_frame`; ``events``: priced events
    (`service.contact_analysis`); ``slopes``: moment id -> the slope of ``measure`` (`effect.moment_slopes`;
    a moment without one gets no effect)."""
    slopes = slopes or {}
    rng = np.random.default_rng(seed)
    per_case = case_costs(events) if not events.empty else pd.DataFrame(columns=["moment_id", "case_id", "cost"])
    by_moment = {int(k): g["cost"].to_numpy(dtype=float) for k, g in per_case.groupby("moment_id")}
    rows: list[CompassRow] = []
    for moment_id, m in moments.iterrows():
        fact = facts.get(int(moment_id))
        values = by_moment.get(int(moment_id), np.array([]))
        if fact is None and not len(values):
            continue
        low, high = _bootstrap_mean(values, rng)
        rows.append(CompassRow(
            moment_id=int(moment_id), key=m["key"], journey_id=int(m["journey_id"]),
            name=m["name_nl"] if language == "nl" else m["name_en"], kind=m["kind"], norm=float(m["norm"]),
            score=None if fact is None or fact.score is None else float(fact.score),
            n=0 if fact is None else int(fact.n), slope=0.0 if fact is None else float(fact.slope),
            slope_se=None if fact is None or fact.se is None else float(fact.se),
            p_value=None if fact is None else fact.p_value,
            cases=len(values), cost=float(values.sum()), cost_per_case=float(values.mean()) if len(values) else None,
            cost_low=low, cost_high=high, measure=measure, effect_slope=slopes.get(int(moment_id))))
    costed = [r.cost_per_case for r in rows if r.cost_per_case is not None]
    median = float(np.median(costed)) if costed else 0.0
    for row in rows:
        _label(row, median, by_moment.get(row.moment_id, np.array([])), rng)
    return rows


def _effect(row: CompassRow, points: float) -> None:
    if row.effect_slope is not None:
        row.effect, row.effect_low, row.effect_high = effect_interval(row.effect_slope, points)


def _label(row: CompassRow, median_cost: float, values: np.ndarray, rng: np.random.Generator) -> None:
    if row.score is None:
        row.label = "unknown"
        return
    significant = row.slope > 0 and row.p_value is not None and row.p_value < SIGNIFICANCE
    if row.score < BASICS:
        row.label, row.target = "fix_basics", BASICS if row.kind == "emotional" else max(row.norm, BASICS)
    elif row.kind == "functional" and row.score < row.norm:
        row.label, row.target = "fix_basics", row.norm
    elif row.kind == "emotional" and row.score < row.norm and significant:
        row.label, row.target = "under_invested", min(row.norm, row.score + 1.0)
    elif (row.kind == "functional" and row.score >= row.norm + OVER_MARGIN and row.cost_per_case is not None
          and row.cost_per_case > median_cost):
        row.label, row.target = "over_invested", row.norm
        excess = np.maximum(values - median_cost, 0.0)
        row.saving = float(excess.sum())
        low, high = _bootstrap_mean(excess, rng)
        if low is not None:
            row.saving_low, row.saving_high = low * len(values), high * len(values)
    else:
        row.label = "keep"
    if row.target is not None:
        _effect(row, row.target - row.score)
