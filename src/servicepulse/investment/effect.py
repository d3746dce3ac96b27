"""The investment compass's expected effect in the units people report: NPS points or grade points.

Per journey, the outcome of every respondent who graded all of the journey's moments is regressed (OLS, an
intercept and one slope per moment) on those grades, the same design and respondents as the metrics'
driver slopes (`metrics.moment_facts`), with the outcome expressed as

- ``nps``: 100 for a promoter (9-10), -100 for a detractor (0-6), 0 for a passive; its mean is the NPS, so a
  slope is NPS points (promoters% - detractors%) per grade point of the moment;
- ``grade``: the overall grade (1-10); a slope is grade points per grade point of the moment.

The expected effect of moving a moment by ``points`` is slope x points, for the customers who meet the
moment. Its interval is the delta method on that linear function of the slope, with the heteroskedasticity-
consistent (HC3) standard error: the NPS outcome takes three values only, so the classical OLS standard error
(which assumes one error variance for every respondent) would be wrong. The points are the plan (to the norm,
or one point up), not an estimate, so they carry no variance of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OUTCOMES = ("nps", "grade")
Z95 = 1.959964


@dataclass(frozen=True)
class Slope:
    slope: float  # outcome units (NPS points or grade points) per grade point of the moment
    se: float  # HC3 standard error
    n: int  # respondents in the regression


def outcome_values(raw: pd.Series, outcome: str) -> pd.Series:
    """The regression's outcome: NPS points per respondent (100 / 0 / -100) or the grade itself."""
    if outcome == "nps":
        return pd.Series(np.where(raw >= 9, 100.0, np.where(raw <= 6, -100.0, 0.0)), index=raw.index).where(
            raw.notna())
    if outcome == "grade":
        return raw.astype(float)
    raise ValueError(f"unknown outcome {outcome!r}")


def hc3_ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and HC3 standard errors of ``y`` on ``x`` (include the intercept column yourself)."""
    gram_inv = np.linalg.inv(x.T @ x)
    coef = gram_inv @ (x.T @ y)
    resid = y - x @ coef
    leverage = np.einsum("ij,jk,ik->i", x, gram_inv, x)
    weight = (resid / np.clip(1.0 - leverage, 1e-12, None)) ** 2
    meat = (x * weight[:, None]).T @ x
    cov = gram_inv @ meat @ gram_inv
    return coef, np.sqrt(np.clip(np.diag(cov), 0.0, None))


def journey_slopes(frame: pd.DataFrame, keys: list[str], outcome: str, min_n: int = 30) -> dict[str, Slope]:
    """Moment key -> its slope in ``outcome`` units. ``frame``: one row per respondent of one journey with the
    raw ``nps`` (0-10) and ``grade`` (1-10) and one column per moment key. Empty when the regression cannot
    be estimated (too few complete answers, a moment without variance, moments that move together)."""
    keys = [k for k in keys if k in frame.columns]
    if not keys or outcome not in frame.columns:
        return {}
    data = frame[keys + [outcome]].dropna()
    if len(data) < max(min_n, len(keys) + 2):
        return {}
    x = np.column_stack([np.ones(len(data)), data[keys].to_numpy(dtype=float)])
    if np.any(np.ptp(x[:, 1:], axis=0) == 0):
        return {}
    y = outcome_values(data[outcome].astype(float), outcome).to_numpy(dtype=float)
    try:
        coef, se = hc3_ols(x, y)
    except np.linalg.LinAlgError:
        return {}
    if np.linalg.cond(x.T @ x) > 1e12:
        return {}
    return {k: Slope(float(coef[i + 1]), float(se[i + 1]), len(data)) for i, k in enumerate(keys)}


def effect_interval(slope: Slope, points: float) -> tuple[float, float, float]:
    """(effect, low, high): slope x points with its 95% delta-method interval."""
    effect = slope.slope * points
    half = Z95 * slope.se * abs(points)
    return effect, effect - half, effect + half


def moment_slopes(frames: dict[int, pd.DataFrame], moments: pd.DataFrame, outcome: str,
                  min_n: int = 30) -> dict[int, Slope]:
    """Moment id -> its slope in ``outcome`` units, over every journey (``frames``:
    `repository.moment_answer_frames`; ``moments``: `repository.moment_frame`)."""
    out: dict[int, Slope] = {}
    for journey_id, part in moments.groupby("journey_id"):
        frame = frames.get(int(journey_id))
        if frame is None:
            continue
        slopes = journey_slopes(frame, part["key"].tolist(), outcome, min_n)
        for moment_id, key in part["key"].items():
            if key in slopes:
                out[int(moment_id)] = slopes[key]
    return out
