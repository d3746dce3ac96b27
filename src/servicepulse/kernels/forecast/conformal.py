"""Split-conformal calibration of the quantile-regression interval (CQR).

The two quantile models give a raw interval ``[low, high]``; on held-out
calibration prefixes each true value ``y`` gets a conformity score that says
how far outside the raw interval it fell (negative when inside). The interval
is then widened by the score quantile that makes the requested share of the
calibration prefixes fall inside (Romano, Patterson & Candès 2019). Variants:

``global``
    one additive correction for every prefix (plain CQR);
``scaled``
    the score is divided by the raw interval's width, so the correction grows
    with the spread the quantile models predict (the "CQR-r" variant of Sesia &
    Candès 2020, a locally adaptive score);
``by_activity`` / ``by_length``
    Mondrian (group-conditional) CQR: one correction per last activity or per
    prefix length, so each group is calibrated on its own prefixes (Vovk et al.
    2005). Groups with fewer than ``MIN_GROUP_PREFIXES`` calibration prefixes,
    and groups unseen at calibration time, share the pooled correction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

INTERVAL_METHODS = ("global", "scaled", "by_activity", "by_length")
# An 80% quantile from fewer scores than this moves by days from one sample to
# the next; such groups borrow the pooled correction instead.
MIN_GROUP_PREFIXES = 50
# Prefix lengths from here on form one group (they are rare on most logs).
LONGEST_LENGTH_GROUP = 5
# Scaled scores divide by the raw width; one hour keeps a degenerate width from
# turning a small miss into an enormous score.
MIN_SCALE_DAYS = 1.0 / 24.0


# The group of prefixes whose last activity was not seen in training (by_activity).
UNSEEN_GROUP = "<unseen>"
# Score of a prefix the served interval holds whatever the correction (finite, so that
# a stored correction stays valid JSON).
ALWAYS_INSIDE = -1e6


def conformity_scores(low, high, y, point=None) -> np.ndarray:
    """How far outside the raw interval each truth fell (negative when inside).

    With ``point``, for the interval as served (``finish_forecast``): it always holds
    the point estimate and never goes below zero, so a truth below the point is
    judged by the lower bound only, one above by the upper bound only. Without it
    the truths the clipping covers anyway (e.g. many "closes the same day" zeros)
    would make the correction too wide.
    """
    low, high, y = (np.asarray(a, dtype=float) for a in (low, high, y))
    if point is None:
        return np.maximum(low - y, y - high)
    point = np.asarray(point, dtype=float)
    return np.where(y < point, low - y, np.where(y > point, y - high, ALWAYS_INSIDE))


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The ceil((n+1) * coverage)-th smallest score (the finite-sample conformal quantile).

    With too few scores for that rank the largest score is used: the guarantee
    then no longer holds exactly, but the interval stays finite.
    """
    n = len(scores)
    if n == 0:
        return 0.0
    rank = min(n, math.ceil((n + 1) * coverage))
    return float(np.partition(scores, rank - 1)[rank - 1])


def interval_groups(method: str, features: pd.DataFrame) -> np.ndarray:
    """The calibration group of each prefix (one group for the non-Mondrian methods)."""
    if method == "by_activity":
        # An activity unseen in training is a missing category: its own group name, not NaN.
        return features["last_activity"].astype(object).fillna(UNSEEN_GROUP).astype(str).to_numpy()
    if method == "by_length":
        length = features["prefix_length"].to_numpy().clip(max=LONGEST_LENGTH_GROUP)
        return np.array([f"{int(n)}+" if n == LONGEST_LENGTH_GROUP else str(int(n)) for n in length])
    return np.full(len(features), "all", dtype=object)


@dataclass
class IntervalCalibration:
    """The learned corrections (days, or multiples of the raw width for ``scaled``)."""

    method: str = "global"
    pooled: float = 0.0
    by_group: dict[str, float] = field(default_factory=dict)

    @classmethod
    def learn(
        cls,
        method: str,
        low: np.ndarray,
        high: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        coverage: float,
        point: np.ndarray | None = None,
    ) -> IntervalCalibration:
        if method not in INTERVAL_METHODS:
            raise ValueError(f"interval must be one of {', '.join(INTERVAL_METHODS)}; got {method!r}.")
        scores = conformity_scores(low, high, y, point)
        if method == "scaled":
            scores = scores / _scale(low, high)
        by_group = {}
        if method in ("by_activity", "by_length"):
            for group in np.unique(groups):
                members = scores[groups == group]
                if len(members) >= MIN_GROUP_PREFIXES:
                    by_group[str(group)] = conformal_quantile(members, coverage)
        return cls(method, conformal_quantile(scores, coverage), by_group)

    def apply(
        self, low: np.ndarray, high: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated interval for raw bounds ``low``/``high`` of prefixes in ``groups``."""
        correction = np.array([self.by_group.get(str(g), self.pooled) for g in groups], dtype=float)
        if self.method == "scaled":
            correction = correction * _scale(low, high)
        return low - correction, high + correction


def _scale(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.maximum(high - low, MIN_SCALE_DAYS)
