"""Remaining-time forecasting on three real logs, by the literature's protocol.

Helpdesk, environmental permit and BPIC 2013 closed problems (../shared/data/eventlogs/,
see its README). Per log: cases sorted by first event, the first 64% train, the next
16% validation, the last 20% test; every test case with n events is predicted after
each prefix of length 2..n-1; MAE in days over those prefixes
(``evaluation.evaluate_protocol``, the same code as ``servicepulse forecast train
--evaluate``).

The forecaster is given the train + validation cases only. Inside ``fit`` it holds
out its newest 20% (= the validation cases) and chooses there, by the rule in
docs/forecast.md: the model family and recency weighting (lowest hold-out MAE), the
interval calibration method (CQR: global, scaled, per last activity or per prefix length)
together with the nightly recalibration window, and the CQR correction. The test cases are
read only to score, and by the nightly recalibration once they have closed (as the
product does with its closed cases).

"80% coverage" is the product's interval (recalibrated every night on recently
closed cases); "static" is the interval as fit.

Run:  nice -n 10 python bench/forecast_logs.py                 (the table, then the 260k-event fit timing)
      python bench/forecast_logs.py --validation-only          (no test case is read: validation plays the test)
      python bench/forecast_logs.py --no-scale                 (skip the 260k-event timing)
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from servicepulse.kernels.eventlog.readers import read_event_log
from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.evaluation import chronological_case_split, evaluate_protocol

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "eventlogs"
# (file, label, timezone of the organisation, best published MAE and by whom)
LOGS = [
    ("helpdesk.xes.gz", "Helpdesk", "Europe/Rome", 4.80, "GGNN"),
    ("env_permit.xes.gz", "environmental permit", "Europe/Amsterdam", 1.46, "PGTNet"),
    ("bpic2013_closed_problems.xes.gz", "BPIC 2013 closed problems", "Europe/Brussels", 16.03, "DALSTM"),
]
COLUMNS = ["case_id", "activity", "timestamp", "resource", "team"]
SCALE_EVENTS = 260_000


def load(name: str) -> pd.DataFrame:
    frame = read_event_log(DATA / name)
    return frame[[c for c in COLUMNS if c in frame.columns and frame[c].notna().any()]]


def load_line() -> str:
    return f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"


def describe_split(events: pd.DataFrame) -> str:
    """Facts about the split (not used for any choice): durations and truncation at the extract's end."""
    spans = events.groupby("case_id")["timestamp"].agg(["min", "max"])
    days = (spans["max"] - spans["min"]).dt.total_seconds() / 86_400
    parts = chronological_case_split(events)
    end = spans["max"].max()
    test_start = spans.loc[parts[2], "min"].min()
    return ("mean/median case duration (days) " + ", ".join(
        f"{name} {days[ids].mean():.1f}/{days[ids].median():.1f}" for name, ids in zip(("train", "validation", "test"), parts)
    ) + f"; train cases still open when the test period starts: {int((spans.loc[parts[0], 'max'] > test_start).sum())}"
      f"; extract ends {end:%Y-%m-%d}")


def scaled_log(events: pd.DataFrame, n_events: int, seed: int = 0) -> pd.DataFrame:
    """A log of ~n_events made by resampling the cases of ``events`` with shifted start times
    (spread over the original span, so the chronological order still mixes old and new)."""
    rng = np.random.default_rng(seed)
    sizes = events.groupby("case_id").size()
    picked = rng.choice(sizes.index.to_numpy(), size=int(n_events / sizes.mean() * 1.02) + 1)
    picked = picked[: int(np.searchsorted(np.cumsum(sizes.loc[picked].to_numpy()), n_events)) + 1]
    span = (events["timestamp"].max() - events["timestamp"].min()).total_seconds()
    copies = pd.DataFrame({"case_id": picked, "copy": np.arange(len(picked)),
                           "shift": pd.to_timedelta(rng.uniform(-0.5, 0.5, len(picked)) * span, unit="s")})
    out = copies.merge(events, on="case_id")
    out["timestamp"] = out["timestamp"] + out["shift"]
    out["case_id"] = "s" + out["copy"].astype(str)
    return out.drop(columns=["copy", "shift"]).sort_values(["case_id", "timestamp"], kind="stable",
                                                          ignore_index=True)


def main() -> None:
    validation_only = "--validation-only" in sys.argv[1:]
    rows, notes = [], []
    for name, label, zone, published, by in LOGS:
        if not (DATA / name).is_file():
            print(f"{label}: {DATA / name} not found, skipped")
            continue
        events = load(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate_protocol(events, lambda zone=zone: ResolutionForecaster(timezone=zone), timezone=zone,
                                       validation_only=validation_only)
        rows.append({
            "log": label, "test prefixes": result["prefixes"], "MAE days": result["mae_days"],
            "80% coverage": result["coverage"], "static coverage": result["static_coverage"],
            "width days": result["width_days"], "baseline MAE": result["baseline_mae_days"],
            "zero MAE": result["zero_mae_days"],
            "best published": f"{published:.2f} ({by})",
            "model chosen": result["model"].split(", interval")[0].replace("half-life ", "hl "),
            "truncated": "yes" if result["truncation"] else "no",
            "interval": result["interval"],
            "window": result["window"].replace("last ", "").replace(" prefixes", ""),
            "fit s": result["fit_s"], "fit CPU s": result["fit_cpu_s"],
            "predict ms/prefix": result["predict_ms_per_prefix"],
        })
        selection = ", ".join(f"{s['family']}/{s['half_life'] or 'none'} {s['holdout_mae_days']:.2f}"
                              for s in result["selection"])
        notes.append(f"{label}: hold-out (validation) MAE by candidate: {selection}")
        held = result["forecaster"].training_report["truncation_holdout_mae_days"]
        notes.append(f"{label}: hold-out MAE of the chosen model, plain {held['plain']:.3f} / conditioned on "
                     f"closing by the newest event given {held['truncated']:.3f}")
        trials = ", ".join(f"{t['method']}/{t['window'].replace('last ', '').replace(' prefixes', '')} "
                           f"{t['coverage']:.3f}" for t in result["forecaster"].training_report["window_selection"]
                           if t["coverage"] is not None)
        notes.append(f"{label}: hold-out coverage by interval method / window: {trials}")
        notes.append(f"{label}: {describe_split(events)}")
    title = "VALIDATION (fit on train, scored on validation; no test case read)" if validation_only else "TEST"
    print(title)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("zero MAE: the error of always forecasting 0 (not a method; shows how much the truth is truncated)")
    print("\n".join(notes))
    print(load_line())
    if "--no-scale" in sys.argv[1:] or not (DATA / LOGS[0][0]).is_file():
        return
    big = scaled_log(load(LOGS[0][0]), SCALE_EVENTS)
    cases = big["case_id"].unique()
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecaster = ResolutionForecaster(timezone="Europe/Rome").fit(big)
    fit_s, fit_cpu = time.perf_counter() - started, time.process_time() - cpu
    one = big[big["case_id"] == cases[0]].head(3)
    forecaster.predict(one)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(20):
        forecaster.predict(one)
    predict_ms = (time.perf_counter() - started) / 20 * 1000
    predict_cpu_ms = (time.process_time() - cpu) / 20 * 1000
    report = forecaster.training_report
    print(f"\n{len(big):,} events ({len(cases):,} cases, Helpdesk resampled): fit {fit_s:.1f} s wall / "
          f"{fit_cpu:.1f} s CPU on {report['fit_cases']:,} cases ({report['training_prefixes']:,} prefixes, "
          f"cap {forecaster.max_training_prefixes:,}); one case predicted in {predict_ms:.1f} ms wall / {predict_cpu_ms:.1f} ms CPU. "
          f"{load_line()}")


if __name__ == "__main__":
    main()
