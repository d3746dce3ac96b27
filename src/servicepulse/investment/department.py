"""The department eye-opener from the record: the contacts, effort and detractors a department causes further
down the journey.

A department *causes* a failure-demand contact when `demand.classify` names it (the team that broke a promise
or closed a case too early, the owner of an invoice that raised questions, the owner of the moment customers
wait in). For the cases with at least one contact it caused, compared with the cases of the same journey
without any failure demand:

- ``effort_points``: the summed excess of their Customer Effort Index (0-100) over that baseline;
- ``detractors``: the answers scoring 0-6 on the recommendation question beyond the baseline's detractor
  rate (an expected excess, not a count of named customers).

Nothing is stored: computed from the contact analysis and the stored case facts on request.
"""

from __future__ import annotations

import pandas as pd

from servicepulse.investment import demand


def department_impact(contacts: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Per causing department id: failure contacts, their cost, their share of all failure contacts, the cases
    they touched, effort points and excess detractors (see the module docstring). ``outcomes``: per case id the
    journey_id, effort_index and nps (`repository.case_outcomes`)."""
    columns = ["contacts", "cost", "share", "cases", "effort_points", "detractors", "answers"]
    if contacts.empty:
        return pd.DataFrame(columns=columns)
    failure = contacts[demand.is_failure(contacts["reason"]) & contacts["cause"].notna()]
    if failure.empty:
        return pd.DataFrame(columns=columns)
    clean_cases = set(contacts["case_id"]) - set(contacts.loc[demand.is_failure(contacts["reason"]), "case_id"])
    base = outcomes[outcomes.index.isin(clean_cases)]
    base_effort = base.groupby("journey_id")["effort_index"].mean()
    answered = base.dropna(subset=["nps"])
    base_detractor = (answered["nps"] <= 6).groupby(answered["journey_id"]).mean()
    rows = {}
    total = len(failure)
    for dept, group in failure.groupby("cause"):
        cases = outcomes.reindex(sorted(set(group["case_id"])))
        effort = cases["effort_index"] - cases["journey_id"].map(base_effort)
        answers = cases.dropna(subset=["nps"])
        expected = answers["journey_id"].map(base_detractor)
        rows[int(dept)] = {
            "contacts": len(group), "cost": float(group["cost"].sum()), "share": len(group) / total,
            "cases": len(cases), "effort_points": float(effort.sum(skipna=True)),
            "detractors": float(((answers["nps"] <= 6).astype(float) - expected).sum(skipna=True)),
            "answers": len(answers),
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).sort_values("contacts", ascending=False)
