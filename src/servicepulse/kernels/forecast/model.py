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

Helpdesk (bench/forecast_helpdesk.py, literature protocol; figures and how the
interval method was chosen on validation only in docs/forecast.md): MAE
4.74-4.79 days depending on the seed (GGNN 4.80); 80% coverage 0.79 on
validation; on test, whose cases follow a new closing rule (83% close exactly
15 days after the resolution, 10-16% before), 0.74-0.76 with the fit's
correction and 0.796-0.801 with the nightly recalibration.
"""

from __future__ import annotations

import inspect
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from .conformal import INTERVAL_METHODS, IntervalCalibration, interval_groups
from .events import validate_events
from .recalibration import RecalibrationWindow, calibration_at, conformity_table
from .features import (
    SECONDS_PER_DAY,
    PrefixFeatureBuilder,
    is_open_prefix,
    last_event_rows,
    remaining_days,
)
from .promise import WorkingCalendar, describe_forecast

OUTPUT_COLUMNS = ["remaining_s", "lower_s", "upper_s"]
MIN_TRAINING_CASES = 10
_FORMAT_VERSION = 3


def _validation_arguments(x_valid, y_valid) -> dict[str, Any]:
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
    def learn(cls, features: pd.DataFrame, target: pd.Series, enabled: bool = True) -> _OffsetTable:
        if not enabled:
            return cls({}, 0.0)
        by_activity = target.groupby(features["last_activity"].astype(str).to_numpy()).median()
        return cls(by_activity.to_dict(), float(target.median()))

    def __call__(self, features: pd.DataFrame) -> np.ndarray:
        activity = features["last_activity"].astype(str)
        return activity.map(self.table).fillna(self.default).to_numpy(dtype=float)


def _mean_prediction(models: list, features: pd.DataFrame) -> np.ndarray:
    return np.mean([m.predict(features) for m in models], axis=0)


def finish_forecast(point, low, high, index: pd.Index) -> pd.DataFrame:
    """The forecast frame (seconds) from calibrated bounds in days: remaining time is
    never negative, and the interval must hold the estimate."""
    point = np.clip(np.asarray(point, dtype=float), 0.0, None)
    low = np.clip(np.minimum(low, point), 0.0, None)
    high = np.maximum(high, point)
    return pd.DataFrame(
        {"remaining_s": point * SECONDS_PER_DAY, "lower_s": low * SECONDS_PER_DAY,
         "upper_s": high * SECONDS_PER_DAY},
        index=index,
    ).astype(float)


class NotFittedError(_SklearnNotFittedError):
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
        ``conformal.py``. On Helpdesk validation the four are within 0.01 of each
        other in coverage and worst-group coverage, so the default is the simplest.
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
    interval_seeds:
        Number of differently seeded 10%/90% quantile models averaged for the raw
        interval (seeds ``random_state``, ``random_state + 1``, ...). On Helpdesk
        validation three instead of one narrowed the spread of coverage over
        forecaster seeds 0/10/20 from 0.005 to 0.001 (static) and 0.007 to 0.002
        (rolling), all within 0.01 of 0.80 (bench part 1c).
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
        interval: str = "global",
        refit_interval: bool = False,
        interval_seeds: int = 3,
    ) -> None:
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must be between 0 and 1 (exclusive), got {coverage}.")
        if not 0.0 < calibration_fraction < 1.0:
            raise ValueError(
                f"calibration_fraction must be between 0 and 1 (exclusive), got {calibration_fraction}."
            )
        if interval not in INTERVAL_METHODS:
            raise ValueError(f"interval must be one of {', '.join(INTERVAL_METHODS)}; got {interval!r}.")
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

    def _train(self, params, x_train, y_train, x_valid, y_valid, metric):
        model = lgb.LGBMRegressor(n_estimators=self.max_rounds, **params)
        model.fit(
            x_train,
            y_train,
            **_validation_arguments(x_valid, y_valid),
            eval_metric=metric,
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        return model, max(1, int(model.best_iteration_ or self.max_rounds))

    def fit(self, events: pd.DataFrame) -> ResolutionForecaster:
        """Learn from closed cases (every case's last event is its resolution)."""
        started = time.perf_counter()
        events = validate_events(events, what="training events")
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

        x_train, y_train = features[train_rows], target[train_rows]
        x_calib, y_calib = features[calib_rows], target[calib_rows].to_numpy()
        x_all, y_all = features[usable], target[usable]
        low_q = (1.0 - self.coverage) / 2.0
        high_q = 1.0 - low_q

        # Step 1: choose rounds by early stopping; calibrate on held-out cases.
        offsets = _OffsetTable.learn(x_train, y_train, self.median_offset)
        r_train, r_calib = y_train - offsets(x_train), y_calib - offsets(x_calib)
        seeds = [self.random_state + i for i in range(self.n_seeds)]
        point_models, point_rounds = [], []
        for seed in seeds:
            model, rounds = self._train(
                self._params("l1", seed, len(x_train)), x_train, r_train, x_calib, r_calib, "l1"
            )
            point_models.append(model)
            point_rounds.append(rounds)
        quantile_models: dict[str, list] = {"low": [], "high": []}
        quantile_rounds: dict[str, list[int]] = {"low": [], "high": []}
        for name, alpha in (("low", low_q), ("high", high_q)):
            for seed in (self.random_state + i for i in range(self.interval_seeds)):
                params = self._params("quantile", seed, len(x_train), alpha=alpha)
                model, rounds = self._train(params, x_train, r_train, x_calib, r_calib, "quantile")
                quantile_models[name].append(model)
                quantile_rounds[name].append(rounds)

        base = offsets(x_calib)
        low = base + _mean_prediction(quantile_models["low"], x_calib)
        high = base + _mean_prediction(quantile_models["high"], x_calib)
        calibration = IntervalCalibration.learn(
            self.interval, low, high, y_calib, interval_groups(self.interval, x_calib), self.coverage
        )
        raw_coverage = float(np.mean((y_calib >= low) & (y_calib <= high)))
        low, high = calibration.apply(low, high, interval_groups(self.interval, x_calib))
        calibrated_coverage = float(np.mean((y_calib >= low) & (y_calib <= high)))
        calib_point = base + np.mean([m.predict(x_calib) for m in point_models], axis=0)
        calibration_mae = float(np.mean(np.abs(calib_point - y_calib)))

        # Step 2: the same models, retrained on everything including the newest cases.
        interval_offsets = offsets
        if self.refit_full:
            offsets = _OffsetTable.learn(x_all, y_all, self.median_offset)
            r_all = y_all - offsets(x_all)
            point_models = [
                lgb.LGBMRegressor(n_estimators=rounds, **self._params("l1", seed, len(x_all))).fit(
                    x_all, r_all
                )
                for seed, rounds in zip(seeds, point_rounds)
            ]
        # Cases whose prefixes the quantile models learned from: their scores are
        # in-sample, so recalibration leaves them out.
        quantile_cases = frozenset(events.loc[train_rows, "case_id"].unique())
        if self.refit_full and self.refit_interval:
            interval_offsets = offsets
            quantile_cases = frozenset(events.loc[usable, "case_id"].unique())
            for name, alpha in (("low", low_q), ("high", high_q)):
                quantile_models[name] = [
                    lgb.LGBMRegressor(
                        n_estimators=rounds,
                        **self._params("quantile", self.random_state + i, len(x_all), alpha=alpha),
                    ).fit(x_all, r_all)
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
            "report": {
                "training_cases": int(len(trainable_cases)),
                "training_prefixes": int(usable.sum()),
                "calibration_cases": int(n_calibration),
                "calibration_prefixes": int(calib_rows.sum()),
                "calibration_mae_days": calibration_mae,
                "raw_interval_coverage": raw_coverage,
                # In-sample for the correction, so at least ``coverage`` by construction.
                "calibrated_interval_coverage": calibrated_coverage,
                "interval_method": self.interval,
                "conformal_correction": calibration.pooled,
                "group_corrections": dict(calibration.by_group),
                "point_rounds": point_rounds,
                "quantile_rounds": dict(quantile_rounds),
                "fit_seconds": time.perf_counter() - started,
                "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
        self, prefixes: pd.DataFrame, *, calibration: IntervalCalibration | None = None
    ) -> pd.DataFrame:
        """Remaining time of each open case, counted from its last observed event.

        Returns a frame indexed by ``case_id`` with float columns ``remaining_s``
        (median estimate), ``lower_s`` and ``upper_s`` (the interval meant to hold
        the true value with probability ``coverage``). ``result.attrs["notes"]``
        maps case ids to remarks, e.g. activities the model has never seen (these
        are treated as an unknown category, so the forecast leans on the rest).
        The interval uses ``calibration`` when given, else the one in use (the
        last :meth:`recalibrate`, or the fit's).
        """
        fitted = self._require_fitted()
        events = validate_events(prefixes, what="prefixes")
        if events.empty:
            empty = pd.DataFrame(columns=OUTPUT_COLUMNS, dtype=float)
            empty.index.name = "case_id"
            empty.attrs["notes"] = {}
            return empty
        raw = self.raw_forecast(events)
        calibration = calibration or self.calibration
        low, high = calibration.apply(raw["low"].to_numpy(), raw["high"].to_numpy(), raw["group"].to_numpy())
        result = finish_forecast(raw["point"].to_numpy(), low, high, raw.index)
        result.attrs["notes"] = self._notes(events, fitted["builder"])
        return result

    def raw_forecast(self, prefixes: pd.DataFrame) -> pd.DataFrame:
        """Per open case (its last event): the point estimate and the *uncalibrated*
        interval in days, and its calibration group (columns point, low, high, group)."""
        fitted = self._require_fitted()
        events = validate_events(prefixes, what="prefixes")
        last = last_event_rows(events)
        features = fitted["builder"].transform(events).loc[last]
        point = fitted["offsets"](features) + np.mean(
            [m.predict(features) for m in fitted["point_models"]], axis=0
        )
        low, high = self._raw_bounds(features)
        return pd.DataFrame(
            {"point": point, "low": low, "high": high,
             "group": interval_groups(fitted["calibration"].method, features)},
            index=pd.Index(events.loc[last, "case_id"].to_numpy(), name="case_id"),
        )

    def raw_interval(self, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Uncalibrated bounds (days) and calibration group after *every* event of
        ``events`` (validated, sorted), for conformity scores of closed cases."""
        fitted = self._require_fitted()
        features = fitted["builder"].transform(events)
        low, high = self._raw_bounds(features)
        return low, high, interval_groups(fitted["calibration"].method, features)

    def _raw_bounds(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        fitted = self._require_fitted()
        base = fitted["interval_offsets"](features)
        return (base + _mean_prediction(fitted["quantile_models"]["low"], features),
                base + _mean_prediction(fitted["quantile_models"]["high"], features))

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
        window = window or RecalibrationWindow()
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
