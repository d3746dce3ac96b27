"""Theme impact against independent computations: Welch's t-test by scipy on the raw scores, NPS by hand,
monthly counts by counting in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import stats

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.text import load_default_codeframe
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.impact import theme_impact
from servicepulse.verbatims.repository import VerbatimFilter

from .conftest import add_responses


def _rows():
    rng = np.random.default_rng(7)
    rows = []
    start = datetime(2026, 1, 10, tzinfo=UTC)
    for i in range(160):
        invoice = i % 3 == 0
        text = "De factuur was onduidelijk" if invoice else "Prima geholpen door de monteur"
        rows.append({"comment": f"{text} ({i})", "nps": int(rng.integers(0, 7) if invoice else rng.integers(5, 11)),
                     "ces": int(rng.integers(1, 5) if invoice else rng.integers(3, 8)),
                     "grade": int(rng.integers(3, 8) if invoice else rng.integers(6, 11)),
                     "submitted_at": start + timedelta(days=i)})
    return rows


def _nps(x):
    x = np.asarray(x)
    return 100.0 * ((x >= 9).mean() - (x <= 6).mean())


def test_effect_matches_welch_and_nps_by_hand(engine):
    rows = _rows()
    add_responses(engine, rows)
    with UnitOfWork(engine) as s:
        analyse_responses(s)
        impacts, totals = theme_impact(s, load_default_codeframe(), min_n=10)
        since_march, _ = theme_impact(s, load_default_codeframe(), VerbatimFilter(date_from=datetime(2026, 3, 1).date()),
                                      min_n=10)
    by = {i.theme: i for i in impacts}
    inv = by["invoice_clarity"]
    has = np.array(["factuur" in r["comment"] for r in rows])
    assert totals["n"] == len(rows) and inv.comments == has.sum()
    assert by["billing_price"].comments == inv.comments  # the parent holds its child's mentions

    for score, result in (("ces", inv.ces), ("grade", inv.grade)):
        x = np.array([r[score] for r in rows], dtype=float)
        ref = stats.ttest_ind(x[has], x[~has], equal_var=False)
        assert abs(result.difference - (x[has].mean() - x[~has].mean())) < 1e-9
        assert abs(result.statistic - ref.statistic) < 1e-9 and abs(result.p_value - ref.pvalue) < 1e-9
        ci = ref.confidence_interval(0.95)
        assert abs(result.low - ci.low) < 1e-9 and abs(result.high - ci.high) < 1e-9
    nps = np.array([r["nps"] for r in rows])
    assert abs(inv.nps.difference - (_nps(nps[has]) - _nps(nps[~has]))) < 1e-9
    assert inv.nps.low < inv.nps.difference < inv.nps.high and inv.nps.high < 0

    months = Counter(r["submitted_at"].strftime("%Y-%m") for r in rows)
    inv_months = Counter(r["submitted_at"].strftime("%Y-%m") for r, h in zip(rows, has) if h)
    assert [(m, n) for m, n, _ in inv.trend] == [(m, inv_months[m]) for m in sorted(months)]
    assert all(abs(share - inv_months[m] / months[m]) < 1e-12 for m, _, share in inv.trend)
    march = sum(1 for r, h in zip(rows, has) if h and r["submitted_at"] >= datetime(2026, 3, 1, tzinfo=UTC))
    assert {i.theme: i for i in since_march}["invoice_clarity"].comments == march
