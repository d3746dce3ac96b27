"""Process statistics of an event log, in the same terms as pm4py.

``log_stats(df)`` returns exactly::

    {"cases": int, "events": int, "variants": int,
     "throughput_days": {"mean": float, "median": float},
     "activities": {"<activity>": count, ...},          # count desc, then name
     "directly_follows": [["<a>", "<b>", count], ...]}  # count desc, then a, b

A variant is a case's sequence of activities ordered by timestamp (ties in
source order); throughput is last minus first event of a case, in days. All
numbers are computed with whole-array NumPy operations; the only Python loop
runs over positions within a case (as many steps as the longest case).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ordering import CaseOrder, case_order

US_PER_DAY = 86_400 * 1_000_000


def case_variants(order: CaseOrder, act_codes: np.ndarray) -> np.ndarray:
    """A variant number per case: equal numbers iff equal activity sequences.

    Exact (no hashing): prefixes are numbered position by position, each new
    prefix id being the factorized pair (previous prefix id, activity). The
    events at position k are found without sorting: cases ordered by length
    (longest first), the first ``count(length > k)`` of them, at start + k.
    """
    n_cases = order.n_cases
    if n_cases == 0:
        return np.zeros(0, dtype=np.int64)
    n_act = int(act_codes.max()) + 1 if len(act_codes) else 1
    length = np.bincount(order.case, minlength=n_cases)
    by_length = np.argsort(-length)
    at_least = np.bincount(length)[::-1].cumsum()[::-1]  # [k]: cases with k events or more
    prefix = np.zeros(n_cases, dtype=np.int64)
    for k in range(int(length.max())):
        c = by_length[:at_least[k + 1]]
        key = prefix[c] * n_act + act_codes[order.starts[c] + k]
        prefix[c] = pd.factorize(key)[0]
    return pd.factorize(length * (prefix.max() + 1) + prefix)[0]


def case_durations_us(order: CaseOrder) -> np.ndarray:
    """Last minus first timestamp per case, in microseconds."""
    last = np.flatnonzero(order.last)
    return order.ts[last] - order.ts[order.starts]


def directly_follows(order: CaseOrder, act_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a codes, b codes, counts) of consecutive activity pairs within cases."""
    same = ~order.first[1:]
    a = act_codes[:-1][same]
    b = act_codes[1:][same]
    n_act = int(act_codes.max()) + 1 if len(act_codes) else 1
    key = a.astype(np.int64) * n_act + b
    if n_act * n_act <= max(len(key), 1 << 16):  # few activities: count in place, no sort
        counts = np.bincount(key, minlength=n_act * n_act)
        pairs = np.flatnonzero(counts)
        counts = counts[pairs]
    else:
        pairs, counts = np.unique(key, return_counts=True)
    return pairs // n_act, pairs % n_act, counts


def log_stats(df: pd.DataFrame) -> dict:
    """Cases, events, variants, throughput, activity counts and the
    directly-follows graph of a normalised event frame (see module doc)."""
    order = case_order(df)
    codes, names = order.activity, order.activities

    variants = case_variants(order, codes)
    days = case_durations_us(order) / US_PER_DAY

    counts = np.bincount(codes, minlength=len(names)) if len(codes) else np.zeros(0, dtype=np.int64)
    act_sorted = sorted(zip(names.tolist(), counts.tolist()), key=lambda x: (-x[1], x[0]))

    a, b, n = directly_follows(order, codes)
    dfg = sorted(
        ([names[i], names[j], int(c)] for i, j, c in zip(a.tolist(), b.tolist(), n.tolist())),
        key=lambda x: (-x[2], x[0], x[1]),
    )
    return {
        "cases": int(order.n_cases),
        "events": int(len(df)),
        "variants": int(variants.max() + 1) if len(variants) else 0,
        "throughput_days": {
            "mean": float(days.mean()) if len(days) else 0.0,
            "median": float(np.median(days)) if len(days) else 0.0,
        },
        "activities": {str(k): int(v) for k, v in act_sorted},
        "directly_follows": dfg,
    }


def variant_counts(df: pd.DataFrame) -> dict[tuple[str, ...], int]:
    """Every variant (tuple of activities) with its number of cases."""
    order = case_order(df)
    acts = order.activities[order.activity]
    variants = case_variants(order, order.activity)
    ids, first_case, counts = np.unique(variants, return_index=True, return_counts=True)
    ends = np.append(order.starts[1:], len(acts))
    # one Python step per variant (not per event) to spell it out
    return {
        tuple(acts[order.starts[c]:ends[c]].tolist()): int(n) for c, n in zip(first_case, counts)
    }
