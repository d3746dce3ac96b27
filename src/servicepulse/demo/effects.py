"""The effect model of the demo: how what happened in a case drives its scores.

The demo's survey answers are not random: they are computed from the case
facts that the product itself measures (the event-log kernel
`servicepulse.kernels.eventlog.facts.case_facts` plus the promises table), so that
the analyses of the product have something true to find. Other engineers'
tests may import this module to check that their analyses recover it.

Drivers (one 0/1 column each, see :func:`driver_frame`):

==========================  ===================================================
broken_promise              a promise to the customer (call-back, visit window,
                            resolution or reply date) was broken
dark_period_over_2_days     the longest open stretch without any
                            customer-facing event exceeds 48 hours
repeat_contact              the customer contacted us again within 7 days
handoff                     the case was handed from the front office to the
                            back office at least once
reopened                    a closed ticket was reopened (the customer had to
                            tell the story again)
after_hours_contact         the customer tried to reach us outside opening hours
channel_switch              the customer changed channel between contacts
proactive_update            we sent an update before the customer asked
first_time_right            closed after a single contact, never reopened
==========================  ===================================================

How the scores are made (all coefficients are the named fields of
:class:`EffectModel`; ``EFFECTS`` is the instance the demo uses):

1. Moment grades (1-10), one per moment the customer went through.
   *Functional* moments ('basic' needs): base grade + small noise, minus
   penalties when something went wrong, and compressed above
   ``functional_ceiling`` (a 7-8 is as good as it gets: little reward above).
   *Emotional* moments (moments of truth; 'performance/excitement'): wide
   noise, big penalties and big rewards (proactive update, first time right),
   so they spread from 4 to 10. A fact hits the moments it concerns with full
   weight (`MOMENT_SENSITIVITY`) and every other moment with
   ``spill_over`` of it.
2. NPS (0-10): intercept + the journey's offset + the direct effect of each driver + the moment
   grades in the 7+/9+ way: a functional moment only costs when it falls
   below 7 (``functional_below_7`` per point) and adds almost nothing above
   (``functional_above_7``); an emotional moment counts throughout
   (``emotional_slope``) and adds a bonus for every point above 8.5
   (``emotional_above_8_5``). Plus noise ``nps_noise``. So a penalty-reward
   contrast analysis (PRCA) of NPS on the moment grades finds what the labels
   say: functional moments behave as basics (a penalty, no reward: their
   grades hardly reach 9), emotional moments as performance or excitement
   factors (their 9+ answers carry a significant reward).
3. Grade (rapportcijfer, 1-10): a linear function of the same latent NPS
   plus its own noise.
4. CES (1-7, 7 = "it was easy"): effort only: repeat contacts, handoffs,
   channel switches, after-hours attempts, reopening (telling the story
   again), broken promises; first time right makes it easier.

The strongest causes by design are, in order, `NPS_DRIVER_RANKING`: a broken
promise and a dark period of more than two days, then a repeat contact, then
a handoff. A key-driver analysis (relative weights or dominance) of NPS on
`NEGATIVE_DRIVERS` over the demo responses ranks them on top in that order.
Include the positive drivers and the first two stay on top, but
`first_time_right` takes a share next to `repeat_contact`: by the kernel's
definition (one inbound contact) it is almost the mirror image of a repeat
contact (correlation about -0.95), so the two split their common share.

Who is asked and who answers (`demo/generate.py`, `demo/invitations.py`): every closed case of a customer who
has not opted out gets the journey-end survey ten minutes after closing, by e-mail or, for a quarter of the
customers with a mobile number, by SMS (one reminder after three days, the link valid 14 days). Whether the
customer answers does not depend on the drivers above (a fixed response rate), so the respondents are a fair
sample of the cases; each answer is linked to its invitation (same case, customer, survey and channel, sent
before it). The others are 'expired' or, when the data end within 14 days of sending, still 'sent'; about 3%
of the text messages fail. The invitations are drawn from a stream of their own, so they change no score.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DRIVERS = (
    "broken_promise", "dark_period_over_2_days", "repeat_contact", "handoff", "reopened",
    "after_hours_contact", "channel_switch", "proactive_update", "first_time_right",
)
NEGATIVE_DRIVERS = DRIVERS[:7]
POSITIVE_DRIVERS = ("proactive_update", "first_time_right")
# Strongest generated causes of a low NPS, strongest first.
NPS_DRIVER_RANKING = ("broken_promise", "dark_period_over_2_days", "repeat_contact", "handoff")
# Among the negative drivers, the largest shares of CES variance, strongest first
# (reopening has the largest effect per case but is rare).
CES_DRIVER_RANKING = ("repeat_contact", "after_hours_contact", "channel_switch")

DARK_PERIOD_HOURS = 48.0
PROACTIVE_ACTIVITY = "Proactive update sent"

# Which facts hit which moment with full weight (by moment key); all other
# moment-fact pairs get `spill_over` of the effect.
MOMENT_SENSITIVITY: dict[str, tuple[str, ...]] = {
    "order": ("after_hours_contact", "channel_switch"),
    "planning": ("broken_promise", "repeat_contact", "handoff"),
    "waiting_activation": ("dark_period_over_2_days", "proactive_update", "repeat_contact"),
    "installation": ("broken_promise", "first_time_right"),
    "first_invoice": ("repeat_contact",),
    "report_fault": ("after_hours_contact", "repeat_contact", "channel_switch"),
    "diagnosis_appointment": ("broken_promise", "handoff", "reopened", "first_time_right"),
    "waiting_engineer": ("dark_period_over_2_days", "proactive_update", "repeat_contact", "reopened"),
    "engineer_visit": ("broken_promise", "first_time_right"),
    "resolution_confirmed": ("reopened", "first_time_right"),
    "report_move": ("after_hours_contact", "channel_switch"),
    "address_check": ("broken_promise", "handoff"),
    "switchover_day": ("broken_promise", "dark_period_over_2_days", "proactive_update"),
    "final_settlement": ("repeat_contact",),
    "ask_question": ("after_hours_contact", "repeat_contact", "channel_switch"),
    "explanation": ("handoff", "reopened", "first_time_right", "dark_period_over_2_days"),
    "correction": ("broken_promise", "reopened"),
    "confirmation": ("broken_promise", "proactive_update"),
    "cancel_request": ("after_hours_contact", "repeat_contact"),
    "retention_offer": ("handoff", "broken_promise", "first_time_right"),
    "cancel_confirmation": ("dark_period_over_2_days",),
    "equipment_return": ("channel_switch",),
    "final_invoice": ("repeat_contact", "broken_promise"),
}


def _coefs(**kw: float) -> dict[str, float]:
    return dict(kw)


@dataclass(frozen=True)
class EffectModel:
    """Named coefficients of the demo's score model (see the module docstring)."""

    # 1. moment grades
    functional_noise: float = 0.5
    functional_ceiling: float = 7.8  # grades above this are compressed ...
    functional_compression: float = 0.25  # ... to this share of the excess
    emotional_noise: float = 1.4
    spill_over: float = 0.1
    functional_effects: dict[str, float] = field(default_factory=lambda: _coefs(
        broken_promise=-1.6, dark_period_over_2_days=-0.9, repeat_contact=-0.9, handoff=-0.4, reopened=-1.0,
        after_hours_contact=-0.5, channel_switch=-0.15, proactive_update=0.3, first_time_right=0.2,
    ))
    emotional_effects: dict[str, float] = field(default_factory=lambda: _coefs(
        broken_promise=-2.4, dark_period_over_2_days=-2.0, repeat_contact=-0.9, handoff=-0.4, reopened=-1.0,
        after_hours_contact=-0.3, channel_switch=-0.1, proactive_update=2.0, first_time_right=0.5,
    ))
    # 2. NPS (latent 0-10)
    nps_intercept: float = 10.6
    nps_effects: dict[str, float] = field(default_factory=lambda: _coefs(
        broken_promise=-2.8, dark_period_over_2_days=-2.5, repeat_contact=-1.7, handoff=-1.7, reopened=-0.3,
        after_hours_contact=-0.1, channel_switch=-0.1, proactive_update=0.4, first_time_right=0.0,
    ))
    # strong enough that on the small demo (~300 complete answers per journey) PRCA finds a significant
    # penalty on every functional moment with enough low grades (~30+) ...
    functional_below_7: float = 0.8  # NPS points per grade point below 7, per functional moment
    functional_above_7: float = 0.03  # ... and above 7: hardly anything (7+ is enough)
    emotional_slope: float = 0.22  # NPS points per grade point around 7, per emotional moment
    # ... and a significant reward on every emotional moment with enough 9+ grades: a 9 adds ~1.5 and a
    # 10 ~4 NPS points against a 7, so exceeding expectations clearly lifts the overall score
    emotional_above_8_5: float = 2.5  # extra per point above 8.5 (9+: the moment of truth won)
    nps_noise: float = 1.9
    # where the customer comes from: someone who is leaving recommends less,
    # someone who just got (or kept) a working connection a little more
    journey_offsets: dict[str, float] = field(default_factory=lambda: _coefs(
        new_connection=0.6, fault_repair=0.0, moving_house=0.6, billing_question=-0.3, cancellation=-1.8,
    ))
    # 3. grade (rapportcijfer) = grade_intercept + grade_slope * latent NPS + noise
    grade_intercept: float = 2.7
    grade_slope: float = 0.62
    grade_noise: float = 0.6
    # 4. CES (1-7)
    ces_intercept: float = 6.1
    ces_effects: dict[str, float] = field(default_factory=lambda: _coefs(
        broken_promise=-0.5, dark_period_over_2_days=-0.3, repeat_contact=-1.0, handoff=-0.4, reopened=-1.3,
        after_hours_contact=-0.8, channel_switch=-0.7, proactive_update=0.2, first_time_right=0.4,
    ))
    ces_noise: float = 0.9


EFFECTS = EffectModel()


def driver_frame(facts: pd.DataFrame, broken_promise: pd.Series, proactive_update: pd.Series) -> pd.DataFrame:
    """The 0/1 driver columns per case from the kernel's case facts.

    ``facts``: output of `case_facts` (index case id); ``broken_promise`` and
    ``proactive_update``: booleans by the same case id (missing = False).
    """
    idx = facts.index
    out = pd.DataFrame(index=idx)
    out["broken_promise"] = broken_promise.reindex(idx, fill_value=False).astype(bool)
    out["dark_period_over_2_days"] = facts["dark_period_hours"] > DARK_PERIOD_HOURS
    out["repeat_contact"] = facts["repeat_contacts"] > 0
    out["handoff"] = facts["front_to_back"] > 0
    out["reopened"] = facts["reopenings"] > 0
    out["after_hours_contact"] = facts["after_hours_contacts"] > 0
    out["channel_switch"] = facts["channel_switches"] > 0
    out["proactive_update"] = proactive_update.reindex(idx, fill_value=False).astype(bool)
    out["first_time_right"] = facts["first_time_right"].astype(bool)
    return out.astype(np.int8)[list(DRIVERS)]


def _effect_sum(drivers: np.ndarray, coefs: dict[str, float], weights: np.ndarray | None = None) -> np.ndarray:
    """Sum of coef * driver per row; ``weights`` (n_drivers,) scales each driver."""
    c = np.array([coefs[d] for d in DRIVERS], dtype=float)
    if weights is not None:
        c = c * weights
    return drivers @ c


def sensitivity_weights(moment_key: str, model: EffectModel = EFFECTS) -> np.ndarray:
    hit = set(MOMENT_SENSITIVITY.get(moment_key, ()))
    return np.array([1.0 if d in hit else model.spill_over for d in DRIVERS])


def moment_grades(drivers: np.ndarray, kind: str, base: float, moment_key: str, rng: np.random.Generator,
                  model: EffectModel = EFFECTS) -> np.ndarray:
    """Integer grades 1-10 for one moment over n cases (``drivers``: n x len(DRIVERS) 0/1)."""
    n = len(drivers)
    w = sensitivity_weights(moment_key, model)
    if kind == "functional":
        g = base + rng.normal(0.0, model.functional_noise, n) + _effect_sum(drivers, model.functional_effects, w)
        excess = np.maximum(g - model.functional_ceiling, 0.0)
        g = g - excess * (1.0 - model.functional_compression)
    else:
        g = base + rng.normal(0.0, model.emotional_noise, n) + _effect_sum(drivers, model.emotional_effects, w)
    return np.clip(np.rint(g), 1, 10).astype(np.int16)


def moment_contribution(grades: np.ndarray, kind: str, model: EffectModel = EFFECTS) -> np.ndarray:
    """NPS points a moment adds (7+/9+ shape); ``grades`` may hold NaN for moments not met (adds 0)."""
    g = np.asarray(grades, dtype=float)
    if kind == "functional":
        v = model.functional_below_7 * np.minimum(g - 7.0, 0.0) + model.functional_above_7 * np.maximum(g - 7.0, 0.0)
    else:
        v = model.emotional_slope * (g - 7.0) + model.emotional_above_8_5 * np.maximum(g - 8.5, 0.0)
    return np.nan_to_num(v, nan=0.0)


@dataclass(frozen=True)
class Scores:
    nps: np.ndarray  # 0-10
    grade: np.ndarray  # 1-10
    ces: np.ndarray  # 1-7
    latent: np.ndarray  # latent NPS before rounding (for tone of verbatims)


def overall_scores(drivers: np.ndarray, moment_term: np.ndarray, rng: np.random.Generator,
                   model: EffectModel = EFFECTS, journeys: np.ndarray | None = None) -> Scores:
    """NPS, grade and CES for n respondents; ``moment_term``: summed `moment_contribution`;
    ``journeys``: journey key per respondent (for `journey_offsets`)."""
    n = len(drivers)
    latent = model.nps_intercept + _effect_sum(drivers, model.nps_effects) + moment_term
    if journeys is not None:
        latent = latent + np.array([model.journey_offsets.get(j, 0.0) for j in journeys])
    latent = latent + rng.normal(0.0, model.nps_noise, n)
    nps = np.clip(np.rint(latent), 0, 10).astype(np.int16)
    grade = model.grade_intercept + model.grade_slope * latent + rng.normal(0.0, model.grade_noise, n)
    grade = np.clip(np.rint(grade), 1, 10).astype(np.int16)
    ces = model.ces_intercept + _effect_sum(drivers, model.ces_effects) + rng.normal(0.0, model.ces_noise, n)
    ces = np.clip(np.rint(ces), 1, 7).astype(np.int16)
    return Scores(nps=nps, grade=grade, ces=ces, latent=latent)


# -- expectations, the value discipline and silent customers (demo/expectation_answers.py) ------------------
#
# A share of the customers with a case answer the expectation survey of the journey of their latest case in
# the window's last EXPECTATION_DAYS days. Their answers have a known structure, which the gap view
# (/investment/expectations) recovers:
#
# * price, product and service: importance, expected and perceived mark are drawn around the means below
#   (rounded normal, clipped to the scale). Customers find service most important and it falls short of their
#   expectation (a gap of about -1.3 points); price and product meet it. The organisation's recorded
#   discipline is operational excellence (price): the page shows that the discipline and the customers'
#   expectations part ways.
# * moments: customers expect EXPECTED_MARK[kind] (importance IMPORTANCE_MARK[kind]); on the emotional
#   moments they expect more than the demo's moment grades give them (negative gaps), on the functional
#   moments about what they get, except EXPECT_MORE: those moments are expected a mark higher still.
#
# Silent customers: TRANSACTIONAL_SHARE of the customers without a case get one billing case of only
# transactional events (TRANSACTIONAL_ACTIVITY) in the window: relationship health lists exactly them as
# "transactional contact only". Customers whose latest answer was bad and who heard nothing since come from
# the stories themselves (a detractor's answer after the case closed, with no later case).
EXPECTATION_SHARE = 0.3
EXPECTATION_DAYS = 180
DIMENSION_MEANS = {  # importance (1-5), expected mark, perceived mark (1-10)
    "price": (3.0, 7.0, 7.3),
    "product": (3.5, 7.4, 7.5),
    "service": (4.4, 8.2, 6.9),
}
IMPORTANCE_MARK = {"functional": 3.2, "emotional": 4.4}
EXPECTED_MARK = {"functional": 7.0, "emotional": 8.6}
EXPECT_MORE = {("fault_repair", "resolution_confirmed"): 8.4}
MARK_SD, IMPORTANCE_SD = 1.0, 0.7
DEMO_DISCIPLINE = "operational_excellence"
TRANSACTIONAL_SHARE = 0.3
TRANSACTIONAL_ACTIVITY = "Invoice sent"


# -- contact costs, avoidable contact and the investment compass (demo/contacts.py) -----------------------------
#
# Every event handled by a team carries its handling minutes (``handling_minutes`` in its attributes), drawn
# around contacts.ACTIVITY_MINUTES / CHANNEL_MINUTES; the product prices them at SERVICEPULSE_COST_PER_MINUTE and
# everything else by channel and direction. The stories mark why each customer contact happened
# (contacts.mark): the first contact of a case and information we asked for are value demand; a chase after a
# promise fell due unkept is `broken_promise` (the promising team's department: the field engineers' missed
# appointments, the back office's late call-backs and replies), a call after the back office closed the ticket
# too early is `repeat`, a question about the first invoice is `department` (billing), a chase in a long wait
# is `silence` (the department owning the waiting moment). /investment recovers those reasons and departments
# (tests/investment/test_failure_demand.py). The order intake and the billing-question intake are deliberately
# gold-plated (long handling on a functional moment that scores above 7): contacts.OVER_INVESTED; the installation
# and the engineer's visit score above 7 but stay below their norm of 9 with a clear effect on the recommendation
# score (see the emotional effects above): contacts.UNDER_INVESTED; the emotional waits and the switchover day score
# below 7, so their basics come first. The compass on /investment labels them so (tests/investment/test_compass.py).
