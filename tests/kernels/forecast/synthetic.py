"""Synthetic case logs whose remaining-time distribution is known by construction.

A small Markov process: Register -> Triage -> (Fix | Escalate -> Fix) -> Close.
The time to the next event depends only on the current activity (and, for Fix,
on the team), so the remaining time after an event depends only on the last
activity (and team): the truth a fitted model must recover.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Median delay (days) from each activity to the next one.
DELAY_DAYS = {"Register": 0.5, "Triage->Fix": 2.0, "Triage->Escalate": 1.0, "Escalate": 6.0, "Fix": 1.0}
ESCALATION_PROBABILITY = 0.3
# With teams, a Fix by team "slow" takes this much longer than by team "fast".
SLOW_TEAM_FACTOR = 4.0


def _delay(rng: np.random.Generator, key: str, sigma: float, factor: float = 1.0) -> float:
    median = DELAY_DAYS[key] * factor
    return float(median * np.exp(sigma * rng.standard_normal())) if sigma > 0 else median


def make_log(
    n_cases: int,
    *,
    sigma: float = 0.0,
    seed: int = 0,
    with_teams: bool = False,
    with_channel: bool = False,
    escalation_probability: float = ESCALATION_PROBABILITY,
    start: str = "2024-01-01",
    span_days: float = 365.0,
) -> pd.DataFrame:
    """Events of ``n_cases`` closed cases (case_id, activity, timestamp, resource[, team][, channel])."""
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp(start, tz="UTC")
    starts = np.sort(rng.uniform(0.0, span_days, n_cases))
    rows = []
    for number, offset in enumerate(starts):
        case_id = f"C{seed}-{number:05d}"
        team = rng.choice(["fast", "slow"]) if with_teams else None
        escalate = rng.random() < escalation_probability
        path = ["Register", "Triage"] + (["Escalate"] if escalate else []) + ["Fix", "Close"]
        t = offset
        for position, activity in enumerate(path):
            row = {
                "case_id": case_id,
                "activity": activity,
                "timestamp": origin + pd.Timedelta(days=t),
                "resource": f"agent{rng.integers(4)}",
            }
            if with_teams:
                row["team"] = team
            if with_channel:
                # Escalated cases come in by e-mail: the channel tells the path in advance.
                row["channel"] = "email" if escalate else "phone"
            rows.append(row)
            if position + 1 < len(path):
                key = activity
                if activity == "Triage":
                    key = "Triage->Escalate" if escalate else "Triage->Fix"
                factor = SLOW_TEAM_FACTOR if (activity == "Fix" and team == "slow") else 1.0
                t += _delay(rng, key, sigma, factor)
    return pd.DataFrame(rows)


def deterministic_remaining_days(activity: str, escalated: bool) -> float:
    """Remaining days after ``activity`` when delays are fixed (sigma=0)."""
    fix = DELAY_DAYS["Fix"]
    escalation = DELAY_DAYS["Triage->Escalate"] + DELAY_DAYS["Escalate"] + fix
    triage = escalation if escalated else DELAY_DAYS["Triage->Fix"] + fix
    return {
        "Register": DELAY_DAYS["Register"] + triage,
        "Triage": triage,
        "Escalate": DELAY_DAYS["Escalate"] + fix,
        "Fix": fix,
    }[activity]


# Forecaster settings that keep the synthetic tests quick (one model, fast learning).
FAST = {"n_seeds": 1, "learning_rate": 0.1, "early_stopping_rounds": 50}
