"""Remaining-time forecasting on the Helpdesk log, by the protocol of the literature.

Cases sorted by first event: first 64% train, next 16% validation, last 20% test;
every test case with n events is predicted after each prefix of length 2..n-1;
MAE in days over all those prefixes. Published on this split: GGNN 4.80,
PGTNet 5.41, ProcessTransformer 5.42, DALSTM 12.90 days.

The forecaster is given the train + validation cases. It holds out its most
recent 20% of cases itself, which here are exactly the validation cases, for
early stopping and for the conformal calibration of the 80% interval; the test
cases are touched only to score.

Part 1 (validation only, how the interval method was chosen): the forecaster is
fit on the 64% train cases alone (so it calibrates on the newest 20% of those)
and scored on the validation prefixes, for each interval calibration (global,
scaled, Mondrian by last activity, Mondrian by prefix length) with and without
refitting the quantile models. The rule, fixed before any test figure was
computed: first coverage nearest 0.80, then the smallest worst-group deviation
from 0.80 (groups of >= 50 validation prefixes by last activity and by prefix
length; a 50-prefix group has a standard error of ~0.06, so this is the weaker
signal); differences under 0.01 count as ties; among ties the simplest wins.

Part 1b (validation only, the recalibration window): the default forecaster fit
on the train cases is rolled through the validation period with the interval
recalibrated every night (start of the day, Europe/Rome) on the cases closed
before it (``evaluation.rolling_forecast``; the history here is train +
validation cases only, so no test case is read while choosing). Candidates,
fixed before any rolling figure was computed: the last 250, 500 or 1000
prefixes, or the cases closed in the last 14, 30 or 60 days. Rule: coverage
nearest 0.80; differences under 0.01 are ties; ties go to the steadier window,
in the order 1000, 500, 250 prefixes, 60, 30, 14 days (larger windows move
less from night to night; a count fixes the sample size, a span does not).

Part 1c (validation only): averaging the 10%/90% quantile models over three
seeds (``interval_seeds=3``) against one, for forecasters seeded 0, 10 and 20:
adopted only if the validation coverage (static and rolling) moves less from
seed to seed and stays as near 0.80.

Part 2 (test, scored once per row): the baseline, the default and variants:

* "train only": the models as trained on the 64% with validation early stopping
  (the literature's protocol, ``refit_full=False``);
* "refit train+val": the point models retrained on train + validation with the
  same number of rounds (the default, what the product does);
* the default without its median-per-activity starting point (see model.py);
* the default without its process-position features (time since resolution,
  waits, working days elapsed, days to month end; see features.py).

Every modelling choice was made on train/validation only; the test prefixes are
scored once per row below. The last lines describe the split (not used for any
choice): the share of cases closed exactly 15 days after "Resolve ticket" jumps
in the test period, a change of closing rule the train/validation cases do not show.

* the default with the nightly recalibration chosen in part 1b ("rolling"),
  whose history is every case (train, validation, test) closed before the night.

Run: python bench/forecast_helpdesk.py   (prints one table; prints, never asserts)
     python bench/forecast_helpdesk.py --validation-only   (parts 1, 1b, 1c; no test case is read)
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from servicepulse.kernels.forecast import (
    ResolutionForecaster,
    WorkingCalendar,
    suggest_promise,
)
from servicepulse.kernels.forecast.conformal import INTERVAL_METHODS
from servicepulse.kernels.forecast.evaluation import (
    chronological_case_split,
    interval_coverage,
    mae_days,
    make_prefixes,
    mean_by_prefix_length,
    rolling_forecast,
)
from servicepulse.kernels.forecast.recalibration import RecalibrationWindow

LOG = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"
PUBLISHED = [("GGNN (published)", 4.80), ("PGTNet (published)", 5.41),
             ("ProcessTransformer (published)", 5.42), ("DALSTM (published)", 12.90)]
# The help desk is Italian: its timestamps carry +01:00/+02:00 offsets.
TIMEZONE = "Europe/Rome"
# Part 1b candidates, in the order ties are broken (steadiest first).
WINDOWS = [RecalibrationWindow(prefixes=n) for n in (1000, 500, 250)] + [
    RecalibrationWindow(prefixes=None, days=d) for d in (60, 30, 14)
]
TIE = 0.01


def load_helpdesk() -> pd.DataFrame:
    import pm4py  # bench/test-only dependency

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = pm4py.read_xes(str(LOG), show_progress_bar=False)
    return raw.rename(columns={
        "case:concept:name": "case_id", "concept:name": "activity",
        "time:timestamp": "timestamp", "org:resource": "resource",
    })[["case_id", "activity", "timestamp", "resource"]]


def fifteen_day_close_share(events, splits) -> list[float]:
    """Per split, the share of cases whose Closed event is 15 days (+-15 min) after the resolution."""
    ordered = events.sort_values(["case_id", "timestamp"])
    resolved = ordered[ordered["activity"] == "Resolve ticket"].groupby("case_id")["timestamp"].last()
    closed = ordered[ordered["activity"] == "Closed"].groupby("case_id")["timestamp"].last()
    gap_days = ((closed - resolved).dt.total_seconds() / 86_400).dropna()
    return [float((gap_days.reindex(ids).dropna().sub(15).abs() < 0.01).mean()) for ids in splits]


def promise_kept(forecaster, prefixes, truth) -> float:
    """Share of test prefixes whose case was closed by the suggested promise."""
    calendar = WorkingCalendar(timezone=TIMEZONE)
    forecast = forecaster.predict(prefixes).reindex(truth.index)
    anchor = prefixes.groupby("case_id")["timestamp"].max().reindex(truth.index)
    upper = anchor + pd.to_timedelta(forecast["upper_s"], unit="s")
    promise = pd.Series([suggest_promise(u, calendar) for u in upper], index=truth.index)
    actual = anchor + pd.to_timedelta(truth["remaining_s"], unit="s")
    return float((actual <= promise).mean())


def interval_figures(forecast, prefixes, truth) -> dict[str, float]:
    """Coverage, worst group deviation from 80% (groups of >= 50 prefixes) and mean width in days."""
    forecast = forecast.reindex(truth.index)
    y = truth["remaining_s"]
    inside = (y >= forecast["lower_s"]) & (y <= forecast["upper_s"])
    last = prefixes.groupby("case_id")["activity"].last().reindex(truth.index)
    worst = 0.0
    for groups in (last, truth["prefix_length"].clip(upper=5)):
        by_group = inside.groupby(groups.to_numpy()).agg(["mean", "size"])
        worst = max(worst, float((by_group.loc[by_group["size"] >= 50, "mean"] - 0.8).abs().max()))
    return {"coverage": float(inside.mean()), "worst group |cov-0.80|": worst,
            "width days": float(((forecast["upper_s"] - forecast["lower_s"]) / 86_400).mean()),
            "MAE days": mae_days(forecast["remaining_s"], y)}


def choose_window(rows: list[dict]) -> RecalibrationWindow:
    """Part 1b's rule: coverage nearest 0.80, ties (< 0.01) to the earliest candidate."""
    best = min(abs(r["coverage"] - 0.8) for r in rows)
    return next(r["window"] for r in rows if abs(r["coverage"] - 0.8) < best + TIE)


def rolling_selection(forecaster, valid_prefixes, valid_truth, history) -> RecalibrationWindow:
    rows = []
    for window in WINDOWS:
        forecast = rolling_forecast(forecaster, valid_prefixes, history, window, TIMEZONE)
        rows.append({"window": window, **interval_figures(forecast, valid_prefixes, valid_truth),
                     "fallback share": forecast.attrs["fallback_share"],
                     "mean correction days": forecast.attrs["mean_correction"]})
    table = pd.DataFrame(rows)
    table["window"] = table["window"].map(lambda w: w.label)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    chosen = choose_window(rows)
    print(f"chosen window: {chosen.label}")
    return chosen


def interval_seed_check(train_events, history, valid_prefixes, valid_truth, window) -> None:
    """Part 1c: static and rolling validation coverage by seed, one vs three quantile seeds."""
    rows = []
    for interval_seeds in (1, 3):
        for seed in (0, 10, 20):
            started = time.perf_counter()
            forecaster = ResolutionForecaster(
                timezone=TIMEZONE, random_state=seed, interval_seeds=interval_seeds
            ).fit(train_events)
            seconds = time.perf_counter() - started
            static = interval_figures(forecaster.predict(valid_prefixes), valid_prefixes, valid_truth)
            rolled = interval_figures(rolling_forecast(forecaster, valid_prefixes, history, window, TIMEZONE), valid_prefixes, valid_truth)
            rows.append({"interval seeds": interval_seeds, "seed": seed, "static coverage": static["coverage"],
                         "rolling coverage": rolled["coverage"], "rolling width": rolled["width days"],
                         "fit s": seconds})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    spread = table.groupby("interval seeds")[["static coverage", "rolling coverage"]].agg(lambda v: v.max() - v.min())
    print("coverage range over seeds (max - min):")
    print(spread.to_string(float_format=lambda v: f"{v:.3f}"))


def load_line() -> str:
    return "load average (1/5/15 min): " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    if not LOG.is_file():
        sys.exit(f"Helpdesk log not found at {LOG}")
    events = load_helpdesk()
    train, valid, test = chronological_case_split(events)
    train_events = events[events["case_id"].isin(train)]
    fit_events = events[events["case_id"].isin(train.append(valid))]
    print("protocol: chronological split by case start 64/16/20; test prefixes of length 2..n-1; "
          "MAE in days; choices made on train/validation only; test scored once per variant")
    print(load_line())

    # Part 1: validation only.
    valid_prefixes, valid_truth = make_prefixes(events[events["case_id"].isin(valid)], min_length=2)
    print(f"\nPart 1, selection on validation: fit on the {len(train)} train cases, "
          f"scored on {len(valid_truth)} validation prefixes")
    rows = []
    for refit_interval in (False, True):
        for method in INTERVAL_METHODS:
            forecaster = ResolutionForecaster(
                timezone=TIMEZONE, interval=method, refit_interval=refit_interval
            ).fit(train_events)
            if (method, refit_interval) == ("global", False):
                train_only = forecaster  # the default's settings
            figures = interval_figures(forecaster.predict(valid_prefixes), valid_prefixes, valid_truth)
            rows.append({"interval": method, "refit quantile models": refit_interval, **figures})
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    default = ResolutionForecaster()
    print(f"default: interval={default.interval!r}, refit_interval={default.refit_interval}")
    print(load_line())

    # Part 1b: the recalibration window, validation only (history: train + validation cases).
    history = events[events["case_id"].isin(train.append(valid))]
    print(f"\nPart 1b, nightly recalibration on validation: default fit on the {len(train)} train cases; "
          f"history = train + validation cases closed before each night")
    window = rolling_selection(train_only, valid_prefixes, valid_truth, history)
    print(load_line())

    print("\nPart 1c, one or three seeds for the quantile models (validation only)")
    interval_seed_check(train_events, history, valid_prefixes, valid_truth, window)
    print(load_line())
    if "--validation-only" in sys.argv[1:]:
        return

    # Part 2: test.
    prefixes, truth = make_prefixes(events[events["case_id"].isin(test)], min_length=2)
    print(f"\nPart 2, test: cases train/validation/test: {len(train)}/{len(valid)}/{len(test)}; "
          f"test prefixes: {len(truth)}")
    rows = []
    baseline = mean_by_prefix_length(train_events, truth)
    rows.append(("mean by prefix length (baseline)", mae_days(baseline, truth["remaining_s"]),
                 np.nan, np.nan, np.nan, np.nan))
    fitted = {}
    variants = [
        ("LightGBM L1 + CQR, train only", {"refit_full": False}),
        ("LightGBM L1 + CQR, refit train+val (default)", {}),
        ("  same, without median offset", {"median_offset": False}),
        ("  same, without position features", {"position_features": False}),
    ]
    for label, options in variants:
        started, cpu_started = time.perf_counter(), time.process_time()
        forecaster = ResolutionForecaster(timezone=TIMEZONE, **options).fit(fit_events)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        forecast = forecaster.predict(prefixes)
        rows.append((label, mae_days(forecast["remaining_s"], truth["remaining_s"]),
                     interval_coverage(forecast, truth["remaining_s"]),
                     float(((forecast["upper_s"] - forecast["lower_s"]) / 86_400).mean()),
                     seconds, cpu_seconds))
        fitted[label] = forecaster
        if label == variants[1][0]:
            # The same model with the nightly recalibration chosen on validation (part 1b).
            rolled = rolling_forecast(forecaster, prefixes, events, window, TIMEZONE)
            rows.append((f"  same, rolling recalibration ({window.label})",
                         mae_days(rolled["remaining_s"], truth["remaining_s"]),
                         interval_coverage(rolled, truth["remaining_s"]),
                         float(((rolled["upper_s"] - rolled["lower_s"]) / 86_400).mean()), np.nan, np.nan))
            rolling_note = (f"rolling: {rolled.attrs['fallback_share']:.1%} of test prefixes kept the fit's "
                            f"calibration (window too small); mean correction "
                            f"{rolled.attrs['mean_correction']:.2f} days (static "
                            f"{forecaster.fit_calibration.pooled:.2f})")

    table = pd.DataFrame(
        rows + [(name, mae, np.nan, np.nan, np.nan, np.nan) for name, mae in PUBLISHED],
        columns=["method", "MAE days", "80% coverage", "width days", "fit seconds", "fit CPU s"],
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))
    print(rolling_note)
    print(load_line())

    # Variation with the random seed (the default is 0; these are not chosen from).
    spread = []
    for seed in (10, 20):
        other = ResolutionForecaster(timezone=TIMEZONE, random_state=seed).fit(fit_events)
        forecast = other.predict(prefixes)
        rolled = rolling_forecast(other, prefixes, events, window, TIMEZONE)
        spread.append((mae_days(forecast["remaining_s"], truth["remaining_s"]),
                       interval_coverage(forecast, truth["remaining_s"]),
                       interval_coverage(rolled, truth["remaining_s"])))
    print("default, other seeds (10, 20): " + ", ".join(
        f"MAE {m:.3f} coverage static {c:.3f} rolling {r:.3f}" for m, c, r in spread))
    chosen = fitted[variants[1][0]]
    report = chosen.training_report
    valid_row = interval_figures(
        ResolutionForecaster(timezone=TIMEZONE).fit(train_events).predict(valid_prefixes),
        valid_prefixes, valid_truth,
    )
    print(f"default, validation coverage out of time (fit on train only): {valid_row['coverage']:.3f}, "
          f"width {valid_row['width days']:.2f} days")
    print(f"default fit on train+val, on its calibration set (= validation): MAE "
          f"{report['calibration_mae_days']:.3f} days, raw quantile coverage "
          f"{report['raw_interval_coverage']:.3f}, calibrated {report['calibrated_interval_coverage']:.3f} "
          f"(in-sample, >= 0.80 by construction), correction {report['conformal_correction']:.3f} days")
    print("closed exactly 15 days after 'Resolve ticket' (train/validation/test): "
          + "/".join(f"{share:.0%}" for share in fifteen_day_close_share(events, (train, valid, test))))
    print(f"suggested promise (upper bound to end of working day) kept for "
          f"{promise_kept(chosen, prefixes, truth):.1%} of test prefixes")
    print(load_line())


if __name__ == "__main__":
    main()
