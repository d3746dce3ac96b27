"""Cost to serve and avoidable contact over a period: the figures behind /investment and the department report.

`contact_analysis` reads the stored events once, prices them (`costs.py`) and classifies every contact
(`demand.py`); the tables of the page are roll-ups of that one frame. Framework-free; never writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from servicepulse.investment import costs, demand, repository


@dataclass
class ContactAnalysis:
    events: pd.DataFrame  # every event: cost, contact, month, department (owner), journey_id, moment_id, team_id
    contacts: pd.DataFrame  # the contacts in the period: + reason, cause (causing department id)
    departments: dict[int, tuple[str, str]]  # unit id -> (key, name)
    moments: pd.DataFrame  # moment id -> key, journey_id, kind, norm, department_id, names
    journeys: dict[int, tuple[str, str, str]]


def contact_analysis(session: Session, settings, date_from: date | None = None,
                     date_to: date | None = None) -> ContactAnalysis:
    """Cost and demand of the events in [date_from, date_to) (local days); a contact is judged on its whole case
    history, but only contacts (and costs) inside the period count."""
    events = repository.event_frame(session, date_from, date_to)
    moments = repository.moment_frame(session)
    team_dept = repository.team_departments(session)
    moment_dept = {int(k): (None if pd.isna(v) else int(v)) for k, v in moments["department_id"].items()}
    units = repository.unit_names(session)
    journeys = repository.journey_names(session)
    if events.empty:
        empty = events.assign(cost=[], contact=[], month=[], department=[])
        return ContactAnalysis(empty, empty.assign(reason=[], cause=[]), units, moments, journeys)
    events["cost"] = costs.event_costs(events, costs.CostRates.from_settings(settings))
    events["contact"] = costs.is_contact(events)
    events["month"] = costs.local_month(events["occurred_at"], settings.zone())
    events["department"] = [demand._department(t, m, team_dept, moment_dept)
                            for t, m in zip(events["team_id"].tolist(), events["moment_id"].tolist())]
    promises = repository.promise_frame(session)
    promises = promises[promises["case_id"].isin(set(events["case_id"].unique()))]
    labelled = demand.classify(events, promises, team_dept, moment_dept, demand.DemandRules.from_settings(settings))
    inside = pd.Series(True, index=events.index)
    zone = str(settings.zone())
    local_day = events["occurred_at"].dt.tz_convert(zone).dt.date
    if date_from is not None:
        inside &= local_day >= date_from
    if date_to is not None:
        inside &= local_day < date_to
    events = events[inside]
    contacts = events[events["contact"]].join(labelled.rename(columns={"department": "cause"}))
    contacts["cause"] = pd.array([None if pd.isna(d) else int(d) for d in contacts["cause"]], dtype="Int64")
    return ContactAnalysis(events, contacts, units, moments, journeys)


def totals(analysis: ContactAnalysis) -> dict:
    """The headline: total cost, cases, cost per case, contacts, failure-demand share and cost."""
    events, contacts = analysis.events, analysis.contacts
    cases = int(events["case_id"].nunique()) if not events.empty else 0
    failure = demand.is_failure(contacts["reason"]) if not contacts.empty else pd.Series(dtype=bool)
    n = len(contacts)
    return {
        "cost": float(events["cost"].sum()) if not events.empty else 0.0,
        "cases": cases,
        "cost_per_case": float(events["cost"].sum()) / cases if cases else None,
        "contacts": n,
        "failure": int(failure.sum()),
        "failure_share": float(failure.mean()) if n else None,
        "failure_cost": float(contacts.loc[failure, "cost"].sum()) if n else 0.0,
    }


def reason_table(analysis: ContactAnalysis) -> pd.DataFrame:
    """Contacts and cost per reason (value demand first, then the failure reasons in `demand.KINDS` order)."""
    contacts = analysis.contacts
    grouped = contacts.groupby("reason")
    out = pd.DataFrame({"contacts": grouped.size(), "cost": grouped["cost"].sum()}).reindex(list(demand.KINDS))
    out = out.fillna(0.0)
    out["share"] = out["contacts"] / len(contacts) if len(contacts) else np.nan
    return out


def monthly(analysis: ContactAnalysis, zone: str = "Europe/Amsterdam") -> pd.DataFrame:
    """Per local month: cost, cases, cost per case, contacts, the failure-demand share, and ``complete``: the
    events cover the whole month (the first and last month of the data usually do not)."""
    cost = costs.rollup(analysis.events, "month")
    share = demand.share_table(analysis.contacts, "month")
    out = cost.join(share[["failure", "share", "failure_cost"]], how="left").sort_index()
    if out.empty:
        return out.assign(complete=[])
    local = analysis.events["occurred_at"].dt.tz_convert(zone)
    first, last = local.min().date(), local.max().date()
    starts = pd.to_datetime(out.index + "-01")
    ends = starts + pd.offsets.MonthEnd(0)
    out["complete"] = [s.date() >= first and e.date() < last for s, e in zip(starts, ends)]
    return out
