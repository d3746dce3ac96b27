"""log_stats against pm4py, computed independently in the same test.

pm4py reads the log itself (its own XES parser) and computes its own
statistics; every number we report must be equal to pm4py's.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from servicepulse.kernels.eventlog import case_facts, log_stats, read_event_log, variant_counts

pm4py = pytest.importorskip("pm4py")

HELPDESK = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "eventlogs" / "helpdesk.xes.gz"
REL = 1e-9


def pm4py_figures(df: pd.DataFrame) -> dict:
    """The log_stats figures, computed by pm4py on a pm4py-formatted frame."""
    keys = dict(case_id_key="case:concept:name", activity_key="concept:name", timestamp_key="time:timestamp")
    variants = pm4py.get_variants(df, **keys)
    dfg, _, _ = pm4py.discover_dfg(df, **keys)
    durations = np.asarray(pm4py.get_all_case_durations(df, **keys), dtype=float) / 86400.0
    return {
        "cases": df["case:concept:name"].nunique(),
        "events": len(df),
        "variants": variants,
        "durations": durations,
        "activities": pm4py.get_event_attribute_values(df, "concept:name", case_id_key="case:concept:name"),
        "dfg": {(a, b): int(c) for (a, b), c in dfg.items()},
    }


def assert_same(ours: dict, ref: dict, our_variants: dict) -> None:
    assert ours["cases"] == ref["cases"]
    assert ours["events"] == ref["events"]
    assert ours["variants"] == len(ref["variants"])
    assert our_variants == {tuple(k): int(v) for k, v in ref["variants"].items()}
    assert math.isclose(ours["throughput_days"]["mean"], float(np.mean(ref["durations"])), rel_tol=REL)
    assert math.isclose(ours["throughput_days"]["median"], float(np.median(ref["durations"])), rel_tol=REL)
    assert ours["activities"] == {k: int(v) for k, v in ref["activities"].items()}
    assert {(a, b): c for a, b, c in ours["directly_follows"]} == ref["dfg"]
    counts = [c for _, _, c in ours["directly_follows"]]
    assert counts == sorted(counts, reverse=True)


@pytest.fixture(scope="module")
def helpdesk():
    if not HELPDESK.exists():
        pytest.skip(f"reference log not found at {HELPDESK}")
    ours = read_event_log(HELPDESK)
    ref = pm4py.read_xes(str(HELPDESK))
    return ours, ref


def test_reader_matches_pm4py_reader(helpdesk):
    ours, ref = helpdesk
    assert len(ours) == len(ref) == 21348
    assert ours["case_id"].tolist() == ref["case:concept:name"].tolist()
    assert ours["activity"].tolist() == ref["concept:name"].tolist()
    assert ours["resource"].tolist() == ref["org:resource"].tolist()
    ref_ts = ref["time:timestamp"].dt.tz_convert("UTC").dt.as_unit("us")
    assert (ours["timestamp"].to_numpy() == ref_ts.to_numpy()).all()


def test_helpdesk_stats_equal_pm4py(helpdesk):
    ours, ref = helpdesk
    stats = log_stats(ours)
    assert_same(stats, pm4py_figures(ref), variant_counts(ours))
    # the data README's published figures for this log, as a sanity anchor
    assert stats["cases"] == 4580 and len(stats["activities"]) == 14
    assert round(stats["throughput_days"]["mean"], 1) == 40.9
    assert round(stats["throughput_days"]["median"], 1) == 39.9


def test_shuffled_log_with_timestamp_ties_equals_pm4py():
    """Rows out of order and many equal timestamps: ordering must be by
    timestamp with ties in file order, exactly as pm4py does."""
    rng = np.random.default_rng(7)
    n_cases = 400
    lengths = rng.integers(1, 9, n_cases)
    case = np.repeat([f"c{i:03d}" for i in range(n_cases)], lengths)
    activity = rng.choice(list("ABCDE"), len(case))
    # whole hours over a few days -> many ties within a case
    ts = pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 72, len(case)), unit="h")
    frame = pd.DataFrame({"case_id": case, "activity": activity, "timestamp": ts})
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    ours = frame.assign(file_order=np.arange(len(frame)))

    ref = pm4py.format_dataframe(
        frame.rename(columns={"case_id": "cid", "activity": "act", "timestamp": "ts"}),
        case_id="cid", activity_key="act", timestamp_key="ts",
    )
    assert_same(log_stats(ours), pm4py_figures(ref), variant_counts(ours))


def test_case_facts_throughput_equals_pm4py_case_durations(helpdesk):
    ours, ref = helpdesk
    facts = case_facts(ours)
    assert len(facts) == ref["case:concept:name"].nunique()
    ref_durations = np.sort(np.asarray(pm4py.get_all_case_durations(ref), dtype=float))
    np.testing.assert_allclose(np.sort(facts["throughput_days"].to_numpy() * 86400.0), ref_durations, rtol=1e-12)
    assert facts["events"].sum() == len(ref)
