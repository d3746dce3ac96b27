"""The evaluation protocol of the remaining-time literature, shared by bench and tests.

Cases are ordered by their first event; the first 64% train, the next 16%
validate, the last 20% test. Every test case with n events is predicted after
each prefix of length 2..n-1, and the mean absolute error in days is taken over
all those prefixes (as in Tax et al. 2017 and the GGNN/PGTNet/ProcessTransformer
comparisons on the Helpdesk log).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .events import validate_events
from .features import SECONDS_PER_DAY, remaining_days
from .model import ResolutionForecaster
from .recalibration import RecalibrationWindow, calibration_at, conformity_table

SPLIT_FRACTIONS = (0.64, 0.16, 0.20)


def chronological_case_split(
    events: pd.DataFrame, fractions: tuple[float, float, float] = SPLIT_FRACTIONS
) -> tuple[pd.Index, pd.Index, pd.Index]:
    """Case ids of train, validation and test, by the time of each case's first event."""
    if len(fractions) != 3 or not np.isclose(sum(fractions), 1.0) or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}.")
    starts = events.groupby("case_id")["timestamp"].min().reset_index()
    ordered = starts.sort_values(["timestamp", "case_id"], kind="stable")["case_id"]
    n = len(ordered)
    first = int(n * fractions[0])
    second = int(n * (fractions[0] + fractions[1]))
    ids = pd.Index(ordered.to_numpy(), name="case_id")
    return ids[:first], ids[first:second], ids[second:]


def make_prefixes(
    events: pd.DataFrame, min_length: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All prefixes of length ``min_length``..n-1 of each case, ready for ``predict``.

    Returns ``(prefix_events, truth)``: the events of every prefix under a new
    ``case_id`` "<case>@<length>", and per prefix id the original case, the prefix
    length and the true remaining time in seconds.
    """
    events = validate_events(events)
    position = events.groupby("case_id", sort=False).cumcount().to_numpy() + 1
    size = events.groupby("case_id", sort=False)["case_id"].transform("size").to_numpy()
    remaining = remaining_days(events).to_numpy() * SECONDS_PER_DAY
    pieces, truth = [], []
    for length in range(min_length, int(size.max(initial=0))):
        cut = (position == length) & (length < size)
        cases = events.loc[cut, "case_id"].to_numpy()
        if len(cases) == 0:
            continue
        ids = [f"{case}@{length}" for case in cases]
        truth.append(
            pd.DataFrame(
                {"case_id": cases, "prefix_length": length, "remaining_s": remaining[cut]}, index=ids
            )
        )
        head = events[(position <= length) & events["case_id"].isin(cases)].copy()
        head["case_id"] = head["case_id"].astype(str) + f"@{length}"
        pieces.append(head)
    if not truth:
        empty = events.iloc[0:0]
        return empty, pd.DataFrame(columns=["case_id", "prefix_length", "remaining_s"])
    truth_frame = pd.concat(truth)
    truth_frame.index.name = "prefix_id"
    return pd.concat(pieces, ignore_index=True), truth_frame


def mae_days(predicted_s: pd.Series, true_s: pd.Series) -> float:
    """Mean absolute error in days, aligned on the index."""
    predicted, true = predicted_s.align(true_s, join="right")
    if predicted.isna().any():
        raise ValueError(f"{int(predicted.isna().sum())} prefixes have no prediction.")
    return float(np.mean(np.abs(predicted - true)) / SECONDS_PER_DAY)


def interval_coverage(forecast: pd.DataFrame, true_s: pd.Series) -> float:
    """Share of true remaining times inside [lower_s, upper_s]."""
    aligned = forecast.reindex(true_s.index)
    inside = (true_s >= aligned["lower_s"]) & (true_s <= aligned["upper_s"])
    return float(inside.mean())


def mean_by_prefix_length(train_events: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """Baseline: mean remaining time of training prefixes of the same length.

    Lengths unseen in training fall back to the mean over all training prefixes.
    """
    _, train_truth = make_prefixes(train_events, min_length=1)
    by_length = train_truth.groupby("prefix_length")["remaining_s"].mean()
    estimate = truth["prefix_length"].map(by_length).fillna(train_truth["remaining_s"].mean())
    return estimate.astype(float)


def rolling_forecast(
    forecaster: ResolutionForecaster,
    prefixes: pd.DataFrame,
    history: pd.DataFrame,
    window: RecalibrationWindow,
    timezone: str = "UTC",
    closed_by=None,
) -> pd.DataFrame:
    """Forecasts as a system recalibrating every night would have made them.

    Each prefix is predicted at its last event; its interval uses the correction
    recomputed at the start of that day (in ``timezone``) from the cases of
    ``history`` whose last event came before that moment (see
    ``forecast/recalibration.py``). Nothing later is seen: the day's own closes
    wait for the next night. ``closed_by``: as in ``ResolutionForecaster.predict``
    (every case is known to close by then); the correction is the product's, from
    unbounded scores.
    ``attrs``: ``fallback_share`` (prefixes whose window
    was too small, so they kept the fit's calibration) and ``mean_correction``.
    """
    events = validate_events(prefixes, what="prefixes")
    raw = forecaster.raw_forecast(events, closed_by=closed_by)
    table = conformity_table(forecaster, history)
    anchors = events.groupby("case_id", sort=False)["timestamp"].max().reindex(raw.index)
    days = anchors.dt.tz_convert(timezone).dt.normalize()
    low, high = raw["low"].to_numpy(copy=True), raw["high"].to_numpy(copy=True)
    groups = raw["group"].to_numpy()
    fallback, corrections = np.zeros(len(raw), dtype=bool), np.zeros(len(raw))
    method = forecaster.fit_calibration.method
    for day, positions in pd.Series(np.arange(len(raw)), index=days.to_numpy()).groupby(level=0):
        rows = positions.to_numpy()
        calibration, _ = calibration_at(table, day, window, method, forecaster.coverage)
        if calibration is None:
            calibration, fallback[rows] = forecaster.fit_calibration, True
        low[rows], high[rows] = calibration.apply(low[rows], high[rows], groups[rows])
        corrections[rows] = calibration.pooled
    result = forecaster.serve(raw, low, high)
    result.attrs["fallback_share"] = float(fallback.mean()) if len(raw) else 0.0
    result.attrs["mean_correction"] = float(corrections.mean()) if len(raw) else 0.0
    return result


def evaluate_protocol(
    events: pd.DataFrame,
    make_forecaster=None,
    *,
    timezone: str = "UTC",
    window: RecalibrationWindow | None = None,
    progress=None,
    validation_only: bool = False,
) -> dict:
    """The literature's protocol on one log, as the product runs it.

    The forecaster is fit on the train + validation cases only (it holds out its
    newest 20%, i.e. the validation cases, to choose its model and calibrate); the
    test cases are touched only to score. ``validation_only``: the test cases are
    dropped first and the validation cases play the test (fit on the train cases,
    which hold out their own newest 20%), so no test case is read. Coverage is reported as the product
    serves it, recalibrated every night on the cases closed before it
    (``rolling_forecast``), and as fit (``static_coverage``). Every case of the log is
    treated as closed at its last event, so the test prefixes are predicted with
    ``closed_by`` = the log's last event (used only if the fit chose it on its hold-out).
    ``progress(stage, done, total)`` reports the stages "fit" and "score".
    """
    import time

    events = validate_events(events, what="event log")
    train, valid, test = chronological_case_split(events)
    if validation_only:
        events = events[~events["case_id"].isin(test)]
        train, valid, test = train, valid[:0], valid
    fit_events = events[events["case_id"].isin(train.append(valid))]
    # The protocol treats every case as closed at its last event, so every test case is
    # known to have closed by the extract's last event (known when the extract was made).
    # The forecaster uses that only if its hold-out chose to (``predict(closed_by=...)``).
    closed_by = events["timestamp"].max()
    prefixes, truth = make_prefixes(events[events["case_id"].isin(test)], min_length=2)
    if truth.empty:
        raise ValueError("the test cases have no prefix of length 2..n-1 to score (too few events per case).")
    forecaster = (make_forecaster or (lambda: ResolutionForecaster(timezone=timezone)))()
    started, cpu = time.perf_counter(), time.process_time()
    forecaster.fit(fit_events, progress=(lambda d, t: progress("fit", d, t)) if progress else None)
    fit_s, fit_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    if progress:
        progress("score", 0, 1)
    started = time.perf_counter()
    static = forecaster.predict(prefixes, closed_by=closed_by)
    predict_s = time.perf_counter() - started
    window = window or forecaster.recalibration_window
    rolled = rolling_forecast(forecaster, prefixes, events, window, timezone, closed_by)
    baseline = mean_by_prefix_length(events[events["case_id"].isin(train)], truth)
    if progress:
        progress("score", 1, 1)
    y = truth["remaining_s"]
    report = forecaster.training_report
    return {
        "cases": (len(train), len(valid), len(test)),
        "prefixes": len(truth),
        "mae_days": mae_days(static["remaining_s"], y),
        "coverage": interval_coverage(rolled, y),
        "static_coverage": interval_coverage(static, y),
        "width_days": float(((rolled["upper_s"] - rolled["lower_s"]) / SECONDS_PER_DAY).mean()),
        "baseline_mae_days": mae_days(baseline, y),
        "zero_mae_days": float(y.mean() / SECONDS_PER_DAY),
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "predict_ms_per_prefix": 1000.0 * predict_s / len(truth),
        "model": f"{report['model_family']}, half-life {report['recency_half_life'] or 'none'}, "
                 f"interval {report['interval_method']}",
        "interval": report["interval_method"],
        "window": window.label,
        "truncation": bool(report.get("truncation_chosen")),
        "selection": report["selection"],
        "forecaster": forecaster,
        "test_case_ids": test,
    }
