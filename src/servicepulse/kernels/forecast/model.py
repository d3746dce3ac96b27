"""The resolution-time forecaster: a point estimate and an honest interval.

Point estimate: gradient-boosted trees (LightGBM) with the L1 objective, i.e. the
conditional *median* of the remaining time. Resolution times are heavy-tailed and
the median is what minimises the mean absolute error people judge us by.

Interval: two quantile models (by default the 10% and 90% quantiles) made
honest by conformalized quantile regression (CQR, Romano et al. 2019; see
``conformal.py``): the most recent cases of the training log are held out, and
the interval is widened (or narrowed) by the amount that makes it cover the
requested share of their prefixes.

Fit protocol (the "calibration" cases are the most recent ``calibration_fraction``
of the closed cases by start time, mirroring a forecast that always looks ahead):

1. train point and quantile models on the older cases, early-stopping each on the
   calibration cases; compute the CQR correction on the calibration prefixes;
2. if ``refit_full``: retrain the point models with the chosen number of rounds
   on *all* cases, so the most recent behaviour of the process is in the
   estimate. The quantile models stay the ones calibrated in step 1 (unless
   ``refit_interval``): the split-conformal guarantee holds for the models whose
   scores were computed on held-out cases, not for models refit on those cases.

After fitting, :meth:`ResolutionForecaster.recalibrate` recomputes the
correction from the most recently closed cases (``recalibration.py``), as a
running system does every night so the interval follows a drifting process.

An untrained forecaster raises :class:`NotFittedError` (a ``ValueError``) on
``predict``/``summary``/``save``; it never returns a made-up forecast.

Before step 1, the model family (LightGBM or the per-activity median) and the
case-recency weighting are chosen on the held-out newest cases (``candidates``,
``select_candidate``), and after it the interval calibration method and the
nightly recalibration window (``choose_window``), and whether a known "closed by"
moment conditions the estimate (``truncation.py``; only ever given for an extract of
closed cases, never for an open case); the rule is written in docs/forecast.md. Test
MAE by the literature's protocol (bench/forecast_logs.py): Helpdesk 4.76 (GGNN 4.80),
environmental permit 1.38 (PGTNet 1.46), BPIC13 closed problems 18.5 without the bound
(DALSTM 16.03) and 12.6 with it (not like-for-like: DALSTM is not told the extract's end;
that extract's newest cases are short by selection, which the bound accounts for).
"""

from __future__ import annotations

import inspect
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .conformal import INTERVAL_METHODS, IntervalCalibration, interval_groups
from .events import validate_events
from .features import (
    SECONDS_PER_DAY,
    PrefixFeatureBuilder,
    is_open_prefix,
    last_event_rows,
    remaining_days,
)
from .promise import WorkingCalendar, describe_forecast
from .recalibration import MIN_WINDOW_PREFIXES, RecalibrationWindow, calibration_at, conformity_table
from .truncation import bound_days, truncated_point

OUTPUT_COLUMNS = ["remaining_s", "lower_s", "upper_s"]
MIN_TRAINING_CASES = 10
_FORMAT_VERSION = 3
# Model families and recency half-lives (share of the training cases) tried on the
# hold-out, in tie-break order: the incumbent LightGBM first. Fixed before any test
# period was scored (docs/forecast.md, "How the method is chosen").
FAMILIES = ("lightgbm", "activity_median")
RECENCY_HALF_LIVES = (None, 0.25, 0.0625, 0.015625)
SELECTION_TIE = 0.01
# Below this many hold-out prefixes of length >= 2, selection scores every prefix.
MIN_SELECTION_PREFIXES = 50
# Fit time grows with the prefixes; past this many the oldest cases are left out
# (keeps a 260,000-event log under two minutes on two cores).
MAX_TRAINING_PREFIXES = 60_000
# From this many training prefixes on: one seed, a learning rate of at least
# LARGE_LOG_LEARNING_RATE and at most LARGE_LOG_MAX_ROUNDS rounds. Averaging seeds and
# slow learning steady small logs; on a large one they cost minutes (a 120,000-prefix
# fit ran to the 3000-round limit per model, ~30 s CPU each) for little.
LARGE_LOG_PREFIXES = 30_000
LARGE_LOG_LEARNING_RATE = 0.1
LARGE_LOG_MAX_ROUNDS = 500
# Nightly recalibration windows tried on the hold-out, steadiest first; coverage
# differences under WINDOW_TIE are ties.
WINDOW_CANDIDATES = (RecalibrationWindow(prefixes=1000), RecalibrationWindow(prefixes=500),
                     RecalibrationWindow(prefixes=250))
WINDOW_TIE = 0.01
# ``interval="auto"``: the calibration method (conformal.INTERVAL_METHODS, simplest first)
# is chosen on the hold-out with the window; ties go to the larger window, then the
# simpler method.
AUTO_INTERVAL = "auto"


def _lightgbm():
    # LightGBM (and the scikit-learn it pulls in) costs seconds to import: only fitting needs it, so the
    # CLI, the server and every page that merely loads the package start without it.
    import lightgbm

    return lightgbm


def _validation_arguments(x_valid, y_valid) -> dict[str, Any]:
    lgb = _lightgbm()
    # LightGBM 4.6 renamed eval_set to eval_X/eval_y; support both sides of the change.
    if "eval_X" in inspect.signature(lgb.LGBMRegressor.fit).parameters:
        return {"eval_X": (x_valid,), "eval_y": (y_valid,)}
    return {"eval_set": [(x_valid, y_valid)]}


class _OffsetTable:
    """Median remaining days per last activity: the trees model what is left over.

    L1 boosting splits on the *sign* of the residuals only, so two states whose
    residuals share a sign (say 0.5 and 4 days above the global median) are never
    told apart. Starting every prefix from the median of its last activity removes
    that blind spot; the trees then learn the corrections.
    """

    def __init__(self, table: dict[str, float], default: float) -> None:
        self.table = table
        self.default = default

    @classmethod
    def learn(cls, features: pd.DataFrame, target: pd.Series, enabled: bool = True,
              weights: np.ndarray | None = None) -> _OffsetTable:
        if not enabled:
            return cls({}, 0.0)
        y = np.asarray(target, dtype=float)
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        activity = features["last_activity"].astype(str).to_numpy()
        table = {key: weighted_median(y[rows], w[rows])
                 for key, rows in pd.Series(np.arange(len(y))).groupby(activity).groups.items()}
        return cls(table, weighted_median(y, w))

    def __call__(self, features: pd.DataFrame) -> np.ndarray:
        activity = features["last_activity"].astype(str)
        return activity.map(self.table).fillna(self.default).to_numpy(dtype=float)


def _as_matrix(features: pd.DataFrame) -> np.ndarray:
    """The features as LightGBM sees a pandas frame: categoricals as their codes (missing
    as NaN). Their vocabularies are frozen at fit, so the codes are the training codes.
    Converting once instead of once per model saves ~8 ms per model on a case page."""
    columns = []
    for name in features.columns:
        column = features[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy(dtype=float)
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            columns.append(column.to_numpy(dtype=float))
    return np.column_stack(columns) if columns else np.empty((len(features), 0))


def _mean_prediction(models: list, features: pd.DataFrame | np.ndarray) -> np.ndarray:
    # No models: the family is the per-activity median alone (the offset).
    if not models:
        return np.zeros(len(features))
    if isinstance(features, pd.DataFrame):
        features = _as_matrix(features)
    # The threads the model was trained with (n_jobs, 1 by default): without it LightGBM
    # predicts with every OpenMP thread, and one case on a busy machine then waits for all of
    # them (Helpdesk model, one case, nine models, load 10: 43-102 ms against 4-9 ms).
    return np.mean([m.booster_.predict(features, num_threads=_threads(m)) for m in models], axis=0)


def _threads(model) -> int:
    n_jobs = getattr(model, "n_jobs", None)
    return int(n_jobs) if isinstance(n_jobs, int | np.integer) and n_jobs > 0 else 0  # 0: LightGBM's default


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The (lower) weighted median; minimises the weighted absolute error."""
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    if len(values) == 0:
        return 0.0
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def recency_weights(case_ids: np.ndarray, case_start: pd.Series, half_life: float | None) -> np.ndarray:
    """Per row, 0.5 ** (cases started after its case / (half_life * cases)): recent cases
    count more. Counted in cases, not days, so one setting fits a busy and a quiet desk."""
    if half_life is None:
        return np.ones(len(case_ids))
    present = pd.Index(pd.unique(case_ids))
    newer = case_start.loc[present].rank(method="first", ascending=False) - 1.0
    scale = max(1.0, half_life * len(present))
    return np.power(0.5, newer.reindex(case_ids).to_numpy(dtype=float) / scale)


def _naive_utc(stamps: pd.Series) -> np.ndarray:
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()


def choose_window(
    holdout: pd.DataFrame, methods: tuple[str, ...] | str, coverage: float,
    groups: dict[str, np.ndarray] | None = None,
) -> tuple[str, RecalibrationWindow, list[dict]]:
    """The interval calibration method and nightly recalibration window, chosen on the
    hold-out cases alone.

    Each hold-out prefix is given the correction each (method, window) would have had at
    the start of its day (UTC), from hold-out cases closed before then (as ``calibration_at``
    would: the last ``window.prefixes`` scores; the candidates are prefix windows);
    prefixes for which some window has too few scores are not counted. Rule: the
    coverage nearest ``coverage``; differences under ``WINDOW_TIE`` are ties, won by the
    larger (steadier) window, then by the earlier method of ``methods`` (simplest first).
    With fewer than ``MIN_WINDOW_PREFIXES`` counted prefixes the first method and the
    largest window stay. ``groups``: the calibration group of each hold-out prefix per
    method (default: the ``group`` column). Returns (method, window, trials).
    """
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    groups = groups or {methods[0]: holdout["group"].to_numpy()}
    # The hold-out by close (as ``calibration_at`` windows it), in plain arrays: one
    # correction per day and option, so this loop runs hundreds of times.
    order = np.argsort(holdout["closed_at"].to_numpy(), kind="stable")
    closed = holdout["closed_at"].to_numpy()[order]
    low, high, y, point = (holdout[c].to_numpy(float) for c in ("low", "high", "y", "point"))
    by_close = {name: values[order] for name, values in (("low", low), ("high", high), ("y", y), ("point", point))}
    groups = {m: np.asarray(groups[m]) for m in methods}
    groups_by_close = {m: groups[m][order] for m in methods}
    days = pd.DatetimeIndex(holdout["at"]).normalize()
    options = [(m, w) for w in WINDOW_CANDIDATES for m in methods]
    inside = {option: np.zeros(len(holdout), dtype=bool) for option in options}
    counted = np.ones(len(holdout), dtype=bool)
    for day, rows in pd.Series(np.arange(len(holdout)), index=days).groupby(level=0):
        rows = rows.to_numpy()
        # Strictly before the start of the day: a case closing then is not yet known.
        end = int(np.searchsorted(closed, np.datetime64(day), "left"))
        for method, window in options:
            used = slice(max(0, end - window.prefixes), end)
            if end - used.start < window.min_prefixes:
                counted[rows] = False
                continue
            calibration = IntervalCalibration.learn(
                method, by_close["low"][used], by_close["high"][used], by_close["y"][used],
                groups_by_close[method][used], coverage, by_close["point"][used])
            lo, hi = calibration.apply(low[rows], high[rows], groups[method][rows])
            served = np.clip(point[rows], 0.0, None)
            lo, hi = np.clip(np.minimum(lo, served), 0.0, None), np.maximum(hi, served)
            inside[method, window][rows] = (y[rows] >= lo) & (y[rows] <= hi)
    trials = [{"method": m, "window": w.label,
               "coverage": float(inside[m, w][counted].mean()) if counted.any() else None,
               "prefixes": int(counted.sum())} for m, w in options]
    if counted.sum() < MIN_WINDOW_PREFIXES:
        return methods[0], WINDOW_CANDIDATES[0], trials
    gaps = [abs(t["coverage"] - coverage) for t in trials]
    best = min(gaps)
    method, window = next(option for option, gap in zip(options, gaps) if gap < best + WINDOW_TIE)
    return method, window, trials


def select_candidate(maes: list[float], tie: float = SELECTION_TIE) -> int:
    """Index of the chosen candidate: lowest hold-out MAE; within ``tie`` (relative) of
    the best counts as a tie, won by the earlier (simpler, or incumbent) candidate."""
    best = min(maes)
    return next(i for i, mae in enumerate(maes) if mae <= best * (1.0 + tie) + 1e-12)


def finish_forecast(point, low, high, index: pd.Index, bound=None) -> pd.DataFrame:
    """The forecast frame (seconds) from calibrated bounds in days: remaining time is
    never negative, and the interval must hold the estimate. ``bound`` (days per row,
    optional): the case is known to close within it, so nothing goes beyond it."""
    point = np.clip(np.asarray(point, dtype=float), 0.0, None)
    if bound is not None:
        point = np.minimum(point, bound)
        high = np.minimum(high, bound)
    low = np.clip(np.minimum(low, point), 0.0, None)
    high = np.maximum(high, point)
    return pd.DataFrame(
        {"remaining_s": point * SECONDS_PER_DAY, "lower_s": low * SECONDS_PER_DAY,
         "upper_s": high * SECONDS_PER_DAY},
        index=index,
    ).astype(float)


class NotFittedError(ValueError, AttributeError):  # the bases of scikit-learn's NotFittedError
    """Raised when predicting with a forecaster that has not been fitted or loaded."""


class ResolutionForecaster:
    """Forecasts the remaining time of open cases from their events so far.

    Parameters
    ----------
    coverage:
        Share of true remaining times the interval should contain (0.8 = 80%).
    calibration_fraction:
        Share of the most recent closed cases held out for early stopping and
        interval calibration.
    timezone:
        Zone for the calendar features (weekday, hour, day of month). ``None``
        keeps the zone the timestamps arrive in.
    n_seeds:
        Number of differently seeded point models averaged (bagging), which
        steadies the estimate.
    refit_full:
        Retrain the point models on all cases after choosing the number of rounds
        (see module doc).
    interval:
        How the interval is calibrated: ``"global"`` (one CQR correction),
        ``"scaled"`` (correction proportional to the raw width), ``"by_activity"``
        or ``"by_length"`` (Mondrian CQR per last activity / prefix length); see
        ``conformal.py``. The default ``"auto"`` chooses among the four on the
        hold-out, together with the nightly window (``choose_window``): on the
        validation periods of three logs no single method kept coverage near 0.80
        on all of them (docs/forecast.md, "Second revision").
    refit_interval:
        Also retrain the quantile models on all cases (keeping the correction of
        step 1). Off by default: it voids the split-conformal guarantee, and on
        Helpdesk validation it overshot (coverage 0.82-0.83 against 0.79-0.81).
    median_offset:
        Start every prefix from the median remaining time of its last activity
        (see ``_OffsetTable``). Costs ~0.05 days of validation MAE on Helpdesk,
        but without it a rare state that always takes, say, 7 days can be
        forecast at the 3.5 days of a common one.
    position_features:
        Add where the case stands in the process (time since its resolution,
        waits so far, working days elapsed, days to month end). On Helpdesk
        (fit on the 64% train cases, scored on the validation prefixes) they
        lower MAE by ~0.02 days for each of two seeds.
    n_jobs:
        LightGBM threads; the default 1 is kind to shared machines.
    families, recency_half_lives:
        The candidates tried on the hold-out (see ``candidates``); half-lives are
        shares of the training cases, ``None`` for no weighting.
    max_training_prefixes:
        Keep only the newest cases whose prefixes fit in this number (fit time).
    interval_seeds:
        Number of differently seeded 10%/90% quantile models averaged for the raw
        interval (seeds ``random_state``, ``random_state + 1``, ...). On Helpdesk
        validation three instead of one narrowed the spread of coverage over
        forecaster seeds 0/10/20 from 0.005 to 0.001 (static) and 0.007 to 0.002
        (rolling), all within 0.01 of 0.80 (bench part 1c).
    truncation:
        ``"auto"`` (default): whether ``predict(closed_by=...)`` conditions the estimate on
        closing by that moment is chosen on the hold-out (``truncation.py``,
        docs/forecast.md step 4b); ``"on"`` / ``"off"`` fix it. Forecasts without
        ``closed_by`` (open cases, the product) are the same in all three.
    """

    def __init__(
        self,
        *,
        coverage: float = 0.8,
        calibration_fraction: float = 0.2,
        timezone: str | None = None,
        n_seeds: int = 3,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        max_rounds: int = 3000,
        early_stopping_rounds: int = 200,
        refit_full: bool = True,
        median_offset: bool = True,
        position_features: bool = True,
        n_jobs: int = 1,
        random_state: int = 0,
        interval: str = AUTO_INTERVAL,
        refit_interval: bool = False,
        interval_seeds: int = 3,
        families: tuple[str, ...] = FAMILIES,
        recency_half_lives: tuple[float | None, ...] = RECENCY_HALF_LIVES,
        max_training_prefixes: int | None = MAX_TRAINING_PREFIXES,
        truncation: str = AUTO_INTERVAL,
    ) -> None:
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must be between 0 and 1 (exclusive), got {coverage}.")
        if not 0.0 < calibration_fraction < 1.0:
            raise ValueError(
                f"calibration_fraction must be between 0 and 1 (exclusive), got {calibration_fraction}."
            )
        if interval not in (AUTO_INTERVAL, *INTERVAL_METHODS):
            raise ValueError(f"interval must be one of {', '.join((AUTO_INTERVAL, *INTERVAL_METHODS))}; "
                             f"got {interval!r}.")
        unknown = [f for f in families if f not in FAMILIES]
        if unknown or not families:
            raise ValueError(f"families must be among {', '.join(FAMILIES)}; got {families!r}.")
        if not recency_half_lives or any(h is not None and h <= 0 for h in recency_half_lives):
            raise ValueError(f"recency half-lives must be positive or None; got {recency_half_lives!r}.")
        if truncation not in (AUTO_INTERVAL, "on", "off"):
            raise ValueError(f"truncation must be 'auto', 'on' or 'off'; got {truncation!r}.")
        self.truncation = truncation
        self.families = tuple(families)
        self.recency_half_lives = tuple(recency_half_lives)
        self.max_training_prefixes = max_training_prefixes
        self.coverage = coverage
        self.interval = interval
        self.calibration_fraction = calibration_fraction
        self.timezone = timezone
        self.n_seeds = max(1, int(n_seeds))
        self.interval_seeds = max(1, int(interval_seeds))
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.refit_full = refit_full
        self.refit_interval = refit_interval
        self.median_offset = median_offset
        self.position_features = position_features
        self.n_jobs = n_jobs
        self.random_state = random_state
        self._fitted: dict[str, Any] | None = None

    # ------------------------------------------------------------------ fitting
    def candidates(self) -> list[tuple[str, float | None]]:
        """(family, recency half-life) pairs tried on the hold-out, in tie-break order."""
        return [(f, h) for f in self.families for h in self.recency_half_lives]

    def _recent_cases(self, events: pd.DataFrame) -> pd.DataFrame:
        """The newest cases (by first event) whose prefixes fit in ``max_training_prefixes``."""
        if self.max_training_prefixes is None:
            return events
        sizes = events.groupby("case_id", sort=False)["timestamp"].agg(["min", "size"])
        if int((sizes["size"] - 1).clip(lower=0).sum()) <= self.max_training_prefixes:
            return events
        newest_first = sizes.sort_values("min", ascending=False, kind="stable")
        kept = newest_first.index[(newest_first["size"] - 1).clip(lower=0).cumsum().to_numpy()
                                  <= self.max_training_prefixes]
        return events[events["case_id"].isin(kept)].reset_index(drop=True)

    def _params(self, objective: str, seed: int, n_rows: int, **extra: Any) -> dict[str, Any]:
        return {
            "objective": objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            # Small logs still need a few splits: shrink the leaf minimum with the data.
            "min_child_samples": int(min(self.min_child_samples, max(3, n_rows // 50))),
            "subsample": 0.8,
            "subsample_freq": 1,
            "random_state": seed,
            "n_jobs": self.n_jobs,
            "verbose": -1,
            **extra,
        }

    def _train(self, params, x_train, y_train, x_valid, y_valid, metric, weights=None):
        large = len(x_train) + len(x_valid) >= LARGE_LOG_PREFIXES  # as fit() decides
        rounds = min(self.max_rounds, LARGE_LOG_MAX_ROUNDS) if large else self.max_rounds
        lgb = _lightgbm()
        model = lgb.LGBMRegressor(n_estimators=rounds, **params)
        model.fit(
            x_train,
            y_train,
            sample_weight=weights,
            **_validation_arguments(x_valid, y_valid),
            eval_metric=metric,
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        return model, max(1, int(model.best_iteration_ or rounds))

    def fit(self, events: pd.DataFrame, progress=None) -> ResolutionForecaster:
        """Learn from closed cases (every case's last event is its resolution).

        ``progress(done, total)``, if given, is called after each model trained.
        Only ``events`` is read: the model family is chosen on its newest cases.
        """
        started = time.perf_counter()
        events = validate_events(events, what="training events")
        events = self._recent_cases(events)
        builder = PrefixFeatureBuilder(
            timezone=self.timezone, position_features=self.position_features
        ).learn(events)
        features = builder.transform(events)
        target = remaining_days(events)
        usable = is_open_prefix(events).to_numpy()

        case_start = events.groupby("case_id", sort=False)["timestamp"].min()
        trainable_cases = events.loc[usable, "case_id"].unique()
        if len(trainable_cases) < MIN_TRAINING_CASES:
            raise ValueError(
                f"training needs at least {MIN_TRAINING_CASES} closed cases with two or more events; "
                f"got {len(trainable_cases)}."
            )
        # Most recent cases by start time calibrate the model: the future looks
        # more like them than like the oldest cases.
        ordered = case_start.loc[trainable_cases].sort_values(kind="stable").index
        n_calibration = max(2, int(round(len(ordered) * self.calibration_fraction)))
        calibration_cases = set(ordered[len(ordered) - n_calibration :])
        in_calibration = events["case_id"].isin(calibration_cases).to_numpy()
        train_rows = usable & ~in_calibration
        calib_rows = usable & in_calibration
        case_of = events["case_id"].to_numpy()

        x_train, y_train = features[train_rows], target[train_rows]
        x_calib, y_calib = features[calib_rows], target[calib_rows].to_numpy()
        x_all, y_all = features[usable], target[usable]
        low_q = (1.0 - self.coverage) / 2.0
        high_q = 1.0 - low_q
        large = len(x_all) >= LARGE_LOG_PREFIXES
        n_seeds = 1 if large else self.n_seeds
        interval_seeds = 1 if large else self.interval_seeds
        rate = {"learning_rate": max(self.learning_rate, LARGE_LOG_LEARNING_RATE)} if large else {}
        candidates = self.candidates()
        n_lgbm = sum(family == "lightgbm" for family, _ in candidates)
        total_models = n_lgbm + (n_seeds - 1) + 2 * interval_seeds + n_seeds
        done = [0]

        def tick() -> None:
            done[0] += 1
            if progress:
                progress(min(done[0], total_models), total_models)

        # Step 0: choose the model family and recency weighting on the held-out
        # newest cases (``select_candidate``); scored like the literature's protocol.
        scored = x_calib["prefix_length"].to_numpy() >= 2
        if scored.sum() < MIN_SELECTION_PREFIXES:
            scored = np.ones(len(x_calib), dtype=bool)
        seeds = [self.random_state + i for i in range(n_seeds)]
        trials = []
        for family, half_life in candidates:
            w_train = recency_weights(case_of[train_rows], case_start, half_life)
            offsets = _OffsetTable.learn(x_train, y_train, self.median_offset or family != "lightgbm", w_train)
            base = offsets(x_calib)
            models, rounds = [], []
            if family == "lightgbm":
                model, n = self._train(self._params("l1", seeds[0], len(x_train), **rate), x_train,
                                       y_train - offsets(x_train), x_calib, y_calib - base, "l1", w_train)
                models, rounds = [model], [n]
                tick()
            point = base + (_mean_prediction(models, x_calib) if models else 0.0)
            trials.append({"family": family, "half_life": half_life, "offsets": offsets, "models": models,
                           "rounds": rounds, "weights": w_train,
                           "mae": float(np.mean(np.abs(point - y_calib)[scored]))})
        chosen = trials[select_candidate([t["mae"] for t in trials])]
        family, half_life, w_train = chosen["family"], chosen["half_life"], chosen["weights"]
        offsets = chosen["offsets"]
        r_train, r_calib = y_train - offsets(x_train), y_calib - offsets(x_calib)
        point_models, point_rounds = list(chosen["models"]), list(chosen["rounds"])
        if family == "lightgbm":
            for seed in seeds[1:]:
                model, rounds = self._train(self._params("l1", seed, len(x_train), **rate), x_train, r_train,
                                            x_calib, r_calib, "l1", w_train)
                point_models.append(model)
                point_rounds.append(rounds)
                tick()
        # Step 1: the interval, from quantile models with the chosen weights,
        # calibrated on the held-out cases.
        quantile_models: dict[str, list] = {"low": [], "high": []}
        quantile_rounds: dict[str, list[int]] = {"low": [], "high": []}
        for name, alpha in (("low", low_q), ("high", high_q)):
            for seed in (self.random_state + i for i in range(interval_seeds)):
                params = self._params("quantile", seed, len(x_train), alpha=alpha, **rate)
                model, rounds = self._train(params, x_train, r_train, x_calib, r_calib, "quantile", w_train)
                quantile_models[name].append(model)
                quantile_rounds[name].append(rounds)
                tick()

        base = offsets(x_calib)
        low = base + _mean_prediction(quantile_models["low"], x_calib)
        high = base + _mean_prediction(quantile_models["high"], x_calib)
        calib_point = base + _mean_prediction(point_models, x_calib)
        # Truncation (``truncation.py``): every hold-out case closed by the newest event given,
        # so its remaining time after a prefix at t is at most (that moment - t). Conditioning
        # the point estimate on that is adopted if it lowers the hold-out MAE by more than
        # SELECTION_TIE (the plain estimate wins a tie). It is then used wherever such a bound
        # is known (an extract of closed cases: ``predict(closed_by=...)``), never for an open
        # case. The interval is calibrated as always (unconditioned), as the product does.
        holdout_bound = bound_days(_naive_utc(events["timestamp"][calib_rows]), events["timestamp"].max())
        bounded_point = truncated_point(calib_point, low, high, holdout_bound, self.coverage)
        truncation_maes = [float(np.mean(np.abs(np.clip(calib_point, 0.0, None) - y_calib)[scored])),
                           float(np.mean(np.abs(bounded_point - y_calib)[scored]))]
        truncation = (select_candidate(truncation_maes) == 1 if self.truncation == AUTO_INTERVAL
                      else self.truncation == "on")
        # The calibration method (with interval="auto") and the nightly window, chosen on the
        # hold-out as the product would have recalibrated through it.
        methods = INTERVAL_METHODS if self.interval == AUTO_INTERVAL else (self.interval,)
        groups_by_method = {m: interval_groups(m, x_calib) for m in methods}
        holdout = pd.DataFrame({
            "case_id": case_of[calib_rows],
            "closed_at": _naive_utc(events.groupby("case_id", sort=False)["timestamp"].transform("max")[calib_rows]),
            "at": _naive_utc(events["timestamp"][calib_rows]),
            "low": low, "high": high, "y": y_calib, "group": groups_by_method[methods[0]], "point": calib_point,
        })
        method, window, window_trials = choose_window(holdout, methods, self.coverage, groups_by_method)
        groups_calib = groups_by_method[method]
        calibration = IntervalCalibration.learn(method, low, high, y_calib, groups_calib, self.coverage, calib_point)
        raw_coverage = float(np.mean((y_calib >= low) & (y_calib <= high)))
        low, high = calibration.apply(low, high, groups_calib)
        served = finish_forecast(calib_point, low, high, x_calib.index) / SECONDS_PER_DAY
        calibrated_coverage = float(np.mean((y_calib >= served["lower_s"].to_numpy())
                                            & (y_calib <= served["upper_s"].to_numpy())))
        calibration_mae = float(np.mean(np.abs(calib_point - y_calib)))

        # Step 2: the same point model, retrained on everything including the newest cases
        # (recency counted from the newest case of all).
        interval_offsets = offsets
        w_all = recency_weights(case_of[usable], case_start, half_life)
        if self.refit_full:
            offsets = _OffsetTable.learn(x_all, y_all, self.median_offset or family != "lightgbm", w_all)
            r_all = y_all - offsets(x_all)
            point_models = []
            lgb = _lightgbm()
            for seed, rounds in zip(seeds, point_rounds):
                point_models.append(lgb.LGBMRegressor(n_estimators=rounds, **self._params("l1", seed, len(x_all), **rate))
                                    .fit(x_all, r_all, sample_weight=w_all))
                tick()
        # Cases whose prefixes the quantile models learned from: their scores are
        # in-sample, so recalibration leaves them out.
        quantile_cases = frozenset(events.loc[train_rows, "case_id"].unique())
        if self.refit_full and self.refit_interval:
            interval_offsets = offsets
            quantile_cases = frozenset(events.loc[usable, "case_id"].unique())
            lgb = _lightgbm()
            for name, alpha in (("low", low_q), ("high", high_q)):
                quantile_models[name] = [
                    lgb.LGBMRegressor(
                        n_estimators=rounds,
                        **self._params("quantile", self.random_state + i, len(x_all), alpha=alpha, **rate),
                    ).fit(x_all, r_all, sample_weight=w_all)
                    for i, rounds in enumerate(quantile_rounds[name])
                ]

        self._fitted = {
            "format_version": _FORMAT_VERSION,
            # Names this fit, so that what was derived from it (a stored recalibration)
            # is never applied to a retrained model.
            "model_id": uuid.uuid4().hex,
            "builder": builder,
            "offsets": offsets,
            "point_models": point_models,
            "interval_offsets": interval_offsets,
            "quantile_models": quantile_models,
            "calibration": calibration,
            "quantile_training_cases": quantile_cases,
            "recalibration": None,
            "recalibration_window": window,
            "truncation": truncation,
            "report": {
                "training_cases": int(len(trainable_cases)),
                "training_prefixes": int(usable.sum()),
                "calibration_cases": int(n_calibration),
                "calibration_prefixes": int(calib_rows.sum()),
                "calibration_mae_days": calibration_mae,
                "raw_interval_coverage": raw_coverage,
                # In-sample for the correction, so at least ``coverage`` by construction.
                "calibrated_interval_coverage": calibrated_coverage,
                "interval_method": method,
                "conformal_correction": calibration.pooled,
                "group_corrections": dict(calibration.by_group),
                "point_rounds": point_rounds,
                "model_family": family,
                "recalibration_window": window.label,
                "window_selection": window_trials,
                "recency_half_life": half_life,
                "truncation_chosen": truncation,
                "truncation_holdout_mae_days": {"plain": truncation_maes[0], "truncated": truncation_maes[1]},
                "selection": [
                    {"family": t["family"], "half_life": t["half_life"], "holdout_mae_days": t["mae"]}
                    for t in trials
                ],
                "fit_cases": int(len(case_start)),
                "large_log_settings": large,
                "quantile_rounds": dict(quantile_rounds),
                "fit_seconds": time.perf_counter() - started,
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }
        return self

    # --------------------------------------------------------------- predicting
    def _require_fitted(self) -> dict[str, Any]:
        if self._fitted is None:
            raise NotFittedError(
                "This ResolutionForecaster has not been trained yet: call fit(events) with closed "
                "cases, or ResolutionForecaster.load(path) to use a saved model."
            )
        return self._fitted

    @property
    def training_report(self) -> dict[str, Any]:
        """Figures from the last fit (sizes, calibration MAE, interval correction, fit time)."""
        return dict(self._require_fitted()["report"])

    def predict(
        self, prefixes: pd.DataFrame, *, calibration: IntervalCalibration | None = None, closed_by=None
    ) -> pd.DataFrame:
        """Remaining time of each open case, counted from its last observed event.

        Returns a frame indexed by ``case_id`` with float columns ``remaining_s``
        (median estimate), ``lower_s`` and ``upper_s`` (the interval meant to hold
        the true value with probability ``coverage``). ``result.attrs["notes"]``
        maps case ids to remarks, e.g. activities the model has never seen (these
        are treated as an unknown category, so the forecast leans on the rest).
        The interval uses ``calibration`` when given, else the one in use (the
        last :meth:`recalibrate`, or the fit's).

        ``closed_by`` (a timezone-aware moment) says every case is known to have closed
        by then, as in an extract of closed cases: if the fit chose truncation on its
        hold-out (``training_report["truncation_chosen"]``), the forecast is conditioned
        on it (``truncation.py``) and nothing goes beyond it; otherwise it is ignored.
        Never give it for an open case: its remaining time has no such bound.
        """
        fitted = self._require_fitted()
        events = validate_events(prefixes, what="prefixes")
        if events.empty:
            empty = pd.DataFrame(columns=OUTPUT_COLUMNS, dtype=float)
            empty.index.name = "case_id"
            empty.attrs["notes"] = {}
            return empty
        raw = self.raw_forecast(events, closed_by=closed_by, validated=True)
        calibration = calibration or self.calibration
        low, high = calibration.apply(raw["low"].to_numpy(), raw["high"].to_numpy(), raw["group"].to_numpy())
        result = self.serve(raw, low, high)
        result.attrs["notes"] = self._notes(events, fitted["builder"])
        return result

    def raw_forecast(self, prefixes: pd.DataFrame, *, closed_by=None, validated: bool = False) -> pd.DataFrame:
        """Per open case (its last event): the point estimate and the *uncalibrated*
        interval in days, its calibration group and the days to ``closed_by`` (``inf``
        without it; see :meth:`predict`) (columns point, low, high, group, bound).
        ``validated``: ``prefixes`` come from ``validate_events`` already (saves a case
        page the second check)."""
        fitted = self._require_fitted()
        events = prefixes if validated else validate_events(prefixes, what="prefixes")
        last = last_event_rows(events)
        features = fitted["builder"].transform(events).loc[last]
        matrix = _as_matrix(features)
        point = fitted["offsets"](features) + _mean_prediction(fitted["point_models"], matrix)
        low, high = self._raw_bounds(features, matrix)
        bound = bound_days(_naive_utc(events.loc[last, "timestamp"]), closed_by)
        if fitted.get("truncation"):
            point = truncated_point(point, low, high, bound, self.coverage)
        return pd.DataFrame(
            {"point": point, "low": low, "high": high,
             "group": interval_groups(fitted["calibration"].method, features), "bound": bound},
            index=pd.Index(events.loc[last, "case_id"].to_numpy(), name="case_id"),
        )

    def serve(self, raw: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> pd.DataFrame:
        """The forecast frame for ``raw_forecast`` rows with calibrated bounds ``low``/``high``:
        where a bound is known and used, nothing goes beyond it (the interval is the calibrated
        one cut at the bound, so it covers every truth it covered, and holds the estimate)."""
        bound = raw["bound"].to_numpy()
        used = self._require_fitted().get("truncation") and np.isfinite(bound).any()
        return finish_forecast(raw["point"].to_numpy(), low, high, raw.index, bound if used else None)

    def raw_interval(self, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Uncalibrated bounds (days), calibration group and point estimate (days) after
        *every* event of ``events`` (validated, sorted), for conformity scores of closed cases."""
        fitted = self._require_fitted()
        features = fitted["builder"].transform(events)
        low, high = self._raw_bounds(features)
        point = fitted["offsets"](features) + _mean_prediction(fitted["point_models"], features)
        return low, high, interval_groups(fitted["calibration"].method, features), point

    def _raw_bounds(self, features: pd.DataFrame, matrix: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        fitted = self._require_fitted()
        base = fitted["interval_offsets"](features)
        matrix = _as_matrix(features) if matrix is None else matrix
        return (base + _mean_prediction(fitted["quantile_models"]["low"], matrix),
                base + _mean_prediction(fitted["quantile_models"]["high"], matrix))

    # ----------------------------------------------------------- recalibration
    @property
    def calibration(self) -> IntervalCalibration:
        """The interval calibration predict() uses: the last recalibration's, or the fit's."""
        fitted = self._require_fitted()
        recalibrated = fitted.get("recalibration") or {}
        return recalibrated.get("calibration") or self.fit_calibration

    @property
    def fit_calibration(self) -> IntervalCalibration:
        """The calibration computed at fit time (the fallback of a recalibration)."""
        return self._require_fitted()["calibration"]

    @property
    def quantile_training_cases(self) -> frozenset:
        """Ids of the cases the quantile models were trained on (in-sample for them)."""
        return self._require_fitted()["quantile_training_cases"]

    @property
    def recalibration_window(self) -> RecalibrationWindow:
        """The nightly recalibration window chosen on the hold-out at fit time."""
        return self._require_fitted().get("recalibration_window") or RecalibrationWindow()

    @property
    def model_id(self) -> str | None:
        """A random id given at fit time (``None`` for models saved before ids existed)."""
        return self._require_fitted().get("model_id")

    @property
    def recalibration(self) -> dict[str, Any] | None:
        """What the last :meth:`recalibrate` found (moment, window, prefixes, cases,
        last close used, correction), or ``None`` when the fit's calibration is in use."""
        info = self._require_fitted().get("recalibration")
        return None if info is None else dict(info)

    def recalibrate(
        self,
        closed_events: pd.DataFrame,
        now,
        window: RecalibrationWindow | None = None,
    ) -> IntervalCalibration:
        """Recompute the interval correction from the cases closed before ``now``.

        ``closed_events`` holds the events of closed cases (may include older
        ones and the training cases: the window keeps the most recent, and cases
        the quantile models learned from are skipped). With fewer than
        ``window.min_prefixes`` scores in the window the fit's calibration stays
        in use. Returns the calibration predict() now uses; see ``recalibration.py``.
        """
        fitted = self._require_fitted()
        window = window or self.recalibration_window
        table = conformity_table(self, closed_events)
        calibration, rows = calibration_at(table, now, window, fitted["calibration"].method, self.coverage)
        last_closed = rows["closed_at"].max().tz_localize("UTC") if len(rows) else None
        return self.use_recalibration(now, window.label, len(rows), rows["case_id"].nunique(), last_closed,
                                      calibration)

    def use_recalibration(
        self,
        at,
        window: str,
        prefixes: int,
        cases: int,
        last_closed_at,
        calibration: IntervalCalibration | None,
    ) -> IntervalCalibration:
        """Put in use a recalibration computed earlier (e.g. stored by a nightly job) as
        :meth:`recalibrate` would have left it; ``calibration=None`` keeps the fit's.
        Returns the calibration predict() now uses."""
        fitted = self._require_fitted()
        if calibration is not None and calibration.method != fitted["calibration"].method:
            raise ValueError(f"a {calibration.method!r} calibration cannot replace this model's "
                             f"{fitted['calibration'].method!r} one.")
        fitted["recalibration"] = {
            "at": pd.Timestamp(at),
            "window": window,
            "prefixes": int(prefixes),
            "cases": int(cases),
            "last_closed_at": None if last_closed_at is None else pd.Timestamp(last_closed_at),
            "calibration": calibration,
            "correction": None if calibration is None else calibration.pooled,
        }
        return self.calibration

    @staticmethod
    def _notes(events: pd.DataFrame, builder: PrefixFeatureBuilder) -> dict[Any, str]:
        notes: dict[Any, str] = {}
        known = set(builder.activities)
        unseen = events.loc[~events["activity"].isin(known)]
        for case_id, names in unseen.groupby("case_id")["activity"]:
            listed = ", ".join(sorted(set(names)))
            notes[case_id] = f"activities not seen in training (treated as unknown): {listed}"
        return notes

    def summary(
        self,
        prefixes: pd.DataFrame,
        calendar: WorkingCalendar | None = None,
    ) -> pd.DataFrame:
        """Forecast as dates and a sentence per case, plus the promise to give the customer.

        Columns: ``expected_at``, ``lower_at``, ``upper_at``, ``promise_at``, ``text``.
        See :func:`servicepulse.kernels.forecast.promise.suggest_promise` for how the
        promise is chosen.
        """
        calendar = calendar or WorkingCalendar()
        forecast = self.predict(prefixes)
        events = validate_events(prefixes, what="prefixes")
        anchors = events.groupby("case_id")["timestamp"].max()
        rows = []
        for case_id, row in forecast.iterrows():
            described = describe_forecast(
                anchors.loc[case_id], row["remaining_s"], row["lower_s"], row["upper_s"],
                calendar=calendar, coverage=self.coverage,
            )
            rows.append({"case_id": case_id, **described.as_dict()})
        columns = ["expected_at", "lower_at", "upper_at", "promise_at", "text"]
        return pd.DataFrame(rows, columns=["case_id", *columns]).set_index("case_id")

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted forecaster to ``path`` (joblib). Returns the path."""
        self._require_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ResolutionForecaster:
        """Read a forecaster written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no saved forecaster at {path}.")
        try:
            obj = joblib.load(path)
        except Exception as exc:  # joblib/pickle raise many types on a bad file
            raise ValueError(f"{path} is not a saved ResolutionForecaster ({exc}).") from None
        if not isinstance(obj, cls):
            raise ValueError(f"{path} holds a {type(obj).__name__}, not a ResolutionForecaster.")
        version = (obj._fitted or {}).get("format_version")
        if obj._fitted is not None and version != _FORMAT_VERSION:
            raise ValueError(
                f"{path} was saved in format {version}; this version reads format {_FORMAT_VERSION}. "
                "Retrain the model."
            )
        return obj
