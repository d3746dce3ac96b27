"""The scores in the demo follow what happened in the cases, as `demo/effects.py` documents.

The drivers are recomputed here from the database with the event-log kernel
and the promises table, independently of the generator's own bookkeeping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from servicepulse.demo import effects
from servicepulse.demo.generate import generate
from servicepulse.kernels.eventlog.facts import case_facts
from servicepulse.kernels.statistics.drivers import relative_weights

from .conftest import TINY_SEED


def _read(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(sql), conn)


@pytest.fixture(scope="module")
def observed(loaded):
    """Per response: scores and the drivers recomputed from the stored events and promises."""
    engine, _ = loaded
    ev = _read(engine, """
        SELECT e.case_id, e.activity, e.occurred_at AS timestamp, e.seq AS file_order, e.direction, e.channel,
               u.key AS team, e.line, e.customer_facing
        FROM case_events e LEFT JOIN org_units u ON u.id = e.team_id""")
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True)
    ev["customer_facing"] = ev["customer_facing"].astype(bool)
    facts = case_facts(ev)
    facts.index = facts.index.astype(np.int64)
    promises = _read(engine, "SELECT case_id, status FROM promises")
    broken = promises[promises["status"] == "broken"].groupby("case_id").size() > 0
    proactive = ev[ev["activity"] == effects.PROACTIVE_ACTIVITY].groupby("case_id").size() > 0
    drivers = effects.driver_frame(facts, broken, proactive)
    # the stories' answers (the expectation answers of demo/expectation_answers.py are about no case)
    r = _read(engine, "SELECT id, case_id, nps, grade, ces FROM responses WHERE case_id IS NOT NULL")
    return r.join(drivers, on="case_id")


def test_stored_drivers_are_the_generated_ones(observed):
    # the database holds the stories the scores were computed from
    data = generate("tiny", seed=TINY_SEED)
    generated = data.drivers.reindex(data.responses["case"]).reset_index(drop=True)
    stored = observed.sort_values("id").reset_index(drop=True)[list(effects.DRIVERS)]
    pd.testing.assert_frame_equal(stored.astype(int), generated.astype(int), check_names=False)


@pytest.mark.parametrize("driver, measure, margin", [
    ("broken_promise", "nps", 2.0),
    ("dark_period_over_2_days", "nps", 1.2),
    ("repeat_contact", "nps", 1.0),
    ("handoff", "nps", 0.5),
    ("broken_promise", "grade", 1.2),
    ("repeat_contact", "ces", 0.8),
    ("reopened", "ces", 0.8),
])
def test_negative_drivers_lower_the_scores(observed, driver, measure, margin):
    with_, without = observed.loc[observed[driver] == 1, measure], observed.loc[observed[driver] == 0, measure]
    assert len(with_) >= 10 and len(without) >= 10
    assert without.mean() - with_.mean() >= margin, (driver, measure, with_.mean(), without.mean())


def test_first_time_right_and_proactive_updates_raise_the_scores(observed):
    ftr = observed.groupby("first_time_right")["nps"].mean()
    assert ftr[1] - ftr[0] >= 1.0
    assert observed.groupby("first_time_right")["ces"].mean().diff().iloc[-1] >= 1.0
    # proactive updates are sent while customers wait: compare among the cases with a long wait
    waiting = observed[observed["handoff"] == 1]
    pro = waiting.groupby("proactive_update")["nps"].mean()
    assert pro[1] > pro[0]


def test_moment_grades_saturate_on_functional_and_spread_on_emotional_moments(loaded):
    engine, _ = loaded
    g = _read(engine, """
        SELECT m.kind, m.key, a.value_num AS grade
        FROM answers a JOIN responses r ON r.id = a.response_id JOIN cases c ON c.id = r.case_id
        JOIN moments m ON m.journey_id = c.journey_id AND a.question_key = 'moment_' || m.key""")
    assert set(g["kind"]) == {"functional", "emotional"}
    functional, emotional = g[g["kind"] == "functional"]["grade"], g[g["kind"] == "emotional"]["grade"]
    assert (functional >= 9).mean() < 0.02  # little reward above 7-8
    assert (emotional >= 9).mean() > 0.12  # moments of truth can be won
    assert emotional.std() > 1.5 * functional.std()
    assert emotional.min() <= 4 and emotional.max() == 10
    per_moment = g.groupby(["kind", "key"])["grade"].std()
    assert per_moment["functional"].max() < per_moment["emotional"].min()


def test_a_driver_analysis_ranks_the_designed_causes_on_top(small_data):
    data = small_data
    r = data.responses
    x = data.drivers.reindex(r["case"]).reset_index(drop=True).astype(float)
    nps = relative_weights(x[list(effects.NEGATIVE_DRIVERS)], r["nps"].astype(float))
    ranked = list(nps.sort_values(ascending=False).index)
    assert tuple(ranked[:len(effects.NPS_DRIVER_RANKING)]) == effects.NPS_DRIVER_RANKING
    everything = relative_weights(x, r["nps"].astype(float)).sort_values(ascending=False)
    assert tuple(everything.index[:2]) == effects.NPS_DRIVER_RANKING[:2]
    ces = relative_weights(x[list(effects.NEGATIVE_DRIVERS)], r["ces"].astype(float))
    ranked = list(ces.sort_values(ascending=False).index)
    assert tuple(ranked[:len(effects.CES_DRIVER_RANKING)]) == effects.CES_DRIVER_RANKING


def test_effect_model_shape():
    m = effects.EFFECTS
    for coefs in (m.nps_effects, m.ces_effects, m.functional_effects, m.emotional_effects):
        assert set(coefs) == set(effects.DRIVERS)
        assert all(coefs[d] <= 0 for d in effects.NEGATIVE_DRIVERS)
        assert all(coefs[d] >= 0 for d in effects.POSITIVE_DRIVERS)
    # the documented order of the direct NPS effects
    ranking = effects.NPS_DRIVER_RANKING
    assert [abs(m.nps_effects[d]) for d in ranking] == sorted((abs(m.nps_effects[d]) for d in ranking), reverse=True)
    # 7+/9+: below 7 a functional moment costs; above 7 it hardly adds
    f = effects.moment_contribution(np.array([5.0, 7.0, 9.0]), "functional")
    e = effects.moment_contribution(np.array([5.0, 7.0, 9.0]), "emotional")
    assert f[1] - f[0] > 5 * (f[2] - f[1])
    assert e[2] - e[1] > e[1] - e[0]
