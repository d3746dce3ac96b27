"""Penalty-reward contrast analysis (Brandt 1987).

Brandt, D. R. (1987). "A procedure for identifying value-enhancing service
components using customer satisfaction survey data." In: Add Value to Your
Service, AMA, 61-65.

For every moment two dummies are made relative to the middle scores: *low*
(score <= ``low_cut``, default 6) and *high* (score >= ``high_cut``, default
9). The overall score is regressed (OLS) on all dummies at once. The low
dummy's coefficient is the **penalty** (negative when a poor moment drags the
overall score down); the high dummy's coefficient is the **reward** (positive
when an excellent moment lifts it). A penalty counts when it is negative and
significant at ``alpha``, a reward when positive and significant:

=====================  ===============  ===============================
penalty    reward      behaviour        meaning
=====================  ===============  ===============================
yes        no          ``basic``        behaves functional (7+ is enough)
no         yes         ``excitement``   behaves emotional (9+ pays off)
yes        yes         ``performance``  every step counts
no         no          ``no effect``    no measurable effect
=====================  ===============  ===============================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import AnalyticsInputError
from .ols import ols_fit

BEHAVIOURS: dict[str, tuple[str, str]] = {
    "basic": ("basic: penalty only (behaves functional)", "basisfactor: alleen straf (gedraagt zich functioneel)"),
    "excitement": ("excitement: reward only (behaves emotional)",
                   "enthousiasmefactor: alleen beloning (gedraagt zich emotioneel)"),
    "performance": ("performance: penalty and reward", "prestatiefactor: straf en beloning"),
    "no effect": ("no effect on the overall score", "geen effect op het totaaloordeel"),
}


@dataclass(frozen=True)
class PrcaResult:
    """Per-moment penalty and reward with the fitted model's summary.

    ``table`` is indexed by moment with columns ``penalty``, ``penalty_se``,
    ``penalty_p``, ``reward``, ``reward_se``, ``reward_p`` (nullable Float64:
    ``<NA>`` where a moment had no low or no high answers, never NaN),
    ``n_low``, ``n_high``, ``behaviour``, ``label_en``, ``label_nl``.
    ``notes`` lists anything the reader should know (dummies left out).
    """

    table: pd.DataFrame
    intercept: float
    r2: float
    n: int
    dropped_rows: int
    low_cut: float
    high_cut: float
    alpha: float
    notes: list[str] = field(default_factory=list)


def _check_scores(frame: pd.DataFrame, scale: tuple[float, float]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    lo, hi = scale
    for column in frame.columns:
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = (raw.notna() & values.isna()) | (values.notna() & ((values < lo) | (values > hi)))
        if bad.any():
            row = bad.index[bad.to_numpy().argmax()]
            raise AnalyticsInputError(
                f"{column!r}, row {row!r}: expected a score from {lo:g} to {hi:g}, got {raw.loc[row]!r}"
            )
        out[column] = values
    return out


def prca(
    moments: pd.DataFrame,
    overall: pd.Series,
    low_cut: float = 6,
    high_cut: float = 9,
    alpha: float = 0.05,
    scale: tuple[float, float] = (0, 10),
) -> PrcaResult:
    """Penalty-reward contrast analysis of moment scores on the overall score.

    Args:
        moments: one column per moment, one row per respondent (scores on ``scale``).
        overall: the overall score (e.g. NPS 0-10 or a 1-10 grade), same rows.
        low_cut, high_cut: a moment score <= low_cut is "low", >= high_cut is "high".
        alpha: significance level for calling a penalty or reward.

    Rows with a missing moment or overall score are left out (``dropped_rows``).
    """
    if not isinstance(moments, pd.DataFrame) or moments.shape[1] == 0:
        raise AnalyticsInputError("moments must be a table (DataFrame) with one column per moment")
    if not low_cut < high_cut:
        raise AnalyticsInputError(f"low_cut ({low_cut}) must be below high_cut ({high_cut})")
    if not 0 < alpha < 1:
        raise AnalyticsInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not isinstance(overall, pd.Series):
        overall = pd.Series(np.asarray(overall), index=moments.index if len(overall) == len(moments) else None)
    scores = _check_scores(moments.rename(columns=str), scale)
    target = _check_scores(overall.rename("overall score").to_frame(), (-np.inf, np.inf))["overall score"]
    frame = scores.assign(__overall__=target.reindex(scores.index)).dropna()
    dropped = len(scores) - len(frame)
    if frame.empty:
        raise AnalyticsInputError("no complete rows: every row misses a moment score or the overall score")

    notes: list[str] = []
    columns: list[np.ndarray] = []
    labels: list[tuple[str, str]] = []  # (moment, "low"/"high")
    for moment in scores.columns:
        for side, mask in (("low", frame[moment] <= low_cut), ("high", frame[moment] >= high_cut)):
            count = int(mask.sum())
            if count == 0:
                cut = f"<= {low_cut:g}" if side == "low" else f">= {high_cut:g}"
                notes.append(f"{moment!r}: no scores {cut}, so no {'penalty' if side == 'low' else 'reward'} estimated")
            elif count == len(frame):
                notes.append(f"{moment!r}: every score is {side}, so there is no middle group to compare with")
            else:
                columns.append(mask.to_numpy(dtype=float))
                labels.append((moment, side))
    y = frame["__overall__"].to_numpy(dtype=float)
    design = np.column_stack([np.ones(len(frame))] + columns)
    if design.shape[0] <= design.shape[1]:
        raise AnalyticsInputError(
            f"too few complete rows ({design.shape[0]}) for {design.shape[1]} coefficients; "
            "collect more answers or analyse fewer moments"
        )
    scaled = design / np.sqrt((design ** 2).sum(axis=0))
    gram = scaled.T @ scaled  # k x k: cheap rank checks even for many rows
    if np.linalg.eigvalsh(gram)[0] <= 1e-10 * len(gram):
        # find the first dummy that adds nothing new, to name it
        for j in range(2, len(gram) + 1):
            if np.linalg.eigvalsh(gram[:j, :j])[0] <= 1e-10 * j:
                moment, side = labels[j - 2]
                raise AnalyticsInputError(
                    f"the {side} answers of {moment!r} coincide with other moments' low/high groups "
                    "(or with everything else), so PRCA cannot separate its effect; "
                    "leave the moment out or collect more varied answers"
                )
    fit = ols_fit(design, y)

    table = pd.DataFrame(index=pd.Index(scores.columns, name="moment"))
    for name in ("penalty", "penalty_se", "penalty_p", "reward", "reward_se", "reward_p"):
        table[name] = pd.Series(pd.NA, index=table.index, dtype="Float64")
    for j, (moment, side) in enumerate(labels, start=1):
        prefix = "penalty" if side == "low" else "reward"
        table.loc[moment, prefix] = fit.coef[j]
        table.loc[moment, f"{prefix}_se"] = fit.se[j]
        table.loc[moment, f"{prefix}_p"] = fit.p_value[j]
    table["n_low"] = [int((frame[m] <= low_cut).sum()) for m in table.index]
    table["n_high"] = [int((frame[m] >= high_cut).sum()) for m in table.index]
    has_penalty = ((table["penalty"] < 0) & (table["penalty_p"] < alpha)).fillna(False).astype(bool)
    has_reward = ((table["reward"] > 0) & (table["reward_p"] < alpha)).fillna(False).astype(bool)
    behaviour = np.select(
        [has_penalty & has_reward, has_penalty, has_reward], ["performance", "basic", "excitement"], "no effect"
    )
    table["behaviour"] = behaviour
    table["label_en"] = [BEHAVIOURS[b][0] for b in behaviour]
    table["label_nl"] = [BEHAVIOURS[b][1] for b in behaviour]
    reversed_penalty = ((table["penalty"] > 0) & (table["penalty_p"] < alpha)).fillna(False).astype(bool)
    for moment in table.index[reversed_penalty]:
        notes.append(f"{moment!r}: low scores go with a *higher* overall score; check the data")
    return PrcaResult(table=table, intercept=float(fit.coef[0]), r2=fit.r2, n=fit.n, dropped_rows=dropped,
                      low_cut=low_cut, high_cut=high_cut, alpha=alpha, notes=notes)
