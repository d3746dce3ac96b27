"""On the tiny demo: evaluation agrees with the generator's own outcomes, kept rates
match an independent count, and the broken-promise effect matches scipy's Welch test."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sqlalchemy import select, update

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations.kept_rate import broken_promise_effect, kept_rates, kept_trend
from servicepulse.expectations.promises import evaluate_promises
from servicepulse.models import Case, Journey, Promise, Response

DEMO_END = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=1)  # window end, Amsterdam midnight


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_demo_promises_evaluated_rated_and_costed(engine):
    with UnitOfWork(engine) as s:
        truth = dict(s.execute(select(Promise.id, Promise.status)).all())
        s.execute(update(Promise).values(status="open", kept_at=None, broken_at=None))
        evaluate_promises(s, DEMO_END)
        got = dict(s.execute(select(Promise.id, Promise.status)).all())
    # The generator decides outcomes from its own story (who fulfilled what, when);
    # the evaluator sees only the events. They must agree on nearly every promise.
    agree = np.mean([truth[i] == got[i] for i in truth])
    assert len(truth) > 500 and agree >= 0.98, agree
    assert Counter(got.values())["broken"] > 50

    with UnitOfWork(engine, readonly=True) as s:
        rows = pd.DataFrame(s.execute(select(Promise.kind, Promise.status, Journey.key)
                                      .join(Case, Case.id == Promise.case_id)
                                      .join(Journey, Journey.id == Case.journey_id, isouter=True)).all(),
                            columns=["kind", "status", "journey"])
        by_kind = {r.group: r for r in kept_rates(s, "kind")}
        by_journey = kept_rates(s, "journey")
        by_team = kept_rates(s, "team")
        trend = kept_trend(s)
        effect = broken_promise_effect(s, "nps")
        scores = pd.DataFrame(s.execute(select(Response.case_id, Response.nps)
                                        .where(Response.nps.is_not(None), Response.case_id.is_not(None))).all(),
                              columns=["case_id", "nps"])
        statuses = pd.DataFrame(s.execute(select(Promise.case_id, Promise.status)).all(),
                                columns=["case_id", "status"])
    decided = rows[rows["status"] != "open"]
    for kind, group in decided.groupby("kind"):
        kept = int((group["status"] == "kept").sum())
        assert (by_kind[kind].kept, by_kind[kind].broken) == (kept, len(group) - kept)
        assert by_kind[kind].low <= kept / len(group) <= by_kind[kind].high
    for grouped in (by_journey, by_team):
        assert sum(r.kept + r.broken for r in grouped) == len(decided)
    assert trend["kept"].sum() + trend["broken"].sum() == len(decided)

    # Independent Welch: responses on cases with a decided promise, broken vs all kept.
    per_case = statuses[statuses["status"] != "open"].groupby("case_id")["status"].agg(lambda s: (s == "broken").any())
    linked = scores[scores["case_id"].isin(per_case.index)]
    broken = linked["case_id"].map(per_case).astype(bool)
    a, b = linked.loc[~broken, "nps"].to_numpy(float), linked.loc[broken, "nps"].to_numpy(float)
    reference = stats.ttest_ind(b, a, equal_var=False)
    ci = reference.confidence_interval(0.95)
    assert (effect.n_a, effect.n_b) == (len(a), len(b))
    assert np.isclose(effect.difference, b.mean() - a.mean())
    assert np.isclose(effect.low, ci.low) and np.isclose(effect.high, ci.high)
    assert effect.difference < 0  # the demo's customers mind broken promises

    # Signals on the demo: a replay at the same moment adds nothing; a day later only new causes.
    from servicepulse.expectations.signals import run_signals

    mid = DEMO_END - timedelta(days=20)
    with UnitOfWork(engine) as s:
        first = run_signals(s, mid, notify=False)
    with UnitOfWork(engine) as s:
        assert run_signals(s, mid, notify=False) == []
        later = run_signals(s, mid + timedelta(days=1), notify=False)
    kinds = Counter(x.details["rule"] for x in first)
    assert kinds["dark_too_long"] > 0, kinds
    keys = [(x.rule_id, x.case_id, x.cause_key) for x in first + later]
    assert len(keys) == len(set(keys))
