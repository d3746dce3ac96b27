"""Cost to serve and avoidable contact over a period: the figures behind /investment and the department report.

`contact_analysis` prices every stored event (`costs.py`) and classifies every contact (`demand.py`); the tables
of the page are roll-ups of that one frame. Framework-free; never writes.

Pricing and classifying every event takes seconds, so the priced and classified frame of the WHOLE history is
kept per process (`_CACHE`), keyed by the database, a cheap fingerprint of the data it depends on
(`repository.data_fingerprint`: counts and highest ids of the events, cases and promises, the promises' kept
and due times; the team -> department and moment -> department maps) and the settings that enter it. A period
is then a filter on that frame: a contact is judged on its whole case history whatever the period, so its
reason does not depend on the period. New, erased or changed data changes the fingerprint and the frame is
recomputed. `compute_contact_analysis` is the direct computation (the reference the cache is tested against).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from servicepulse.investment import costs, demand, effect, repository


@dataclass
class ContactAnalysis:
    events: pd.DataFrame  # every event: cost, contact, month, department (owner), journey_id, moment_id, team_id
    contacts: pd.DataFrame  # the contacts in the period: + reason, cause (causing department id)
    departments: dict[int, tuple[str, str]]  # unit id -> (key, name)
    moments: pd.DataFrame  # moment id -> key, journey_id, kind, norm, department_id, names
    journeys: dict[int, tuple[str, str, str]]


def compute_contact_analysis(session: Session, settings, date_from: date | None = None,
                             date_to: date | None = None) -> ContactAnalysis:
    """Cost and demand of the events in [date_from, date_to) (local days); a contact is judged on its whole case
    history, but only contacts (and costs) inside the period count. Reads and classifies every event of the
    cases concerned on each call: `contact_analysis` gives the same figures from a per-process cache."""
    events = repository.event_frame(session, date_from, date_to, str(settings.zone()))
    moments = repository.moment_frame(session)
    team_dept = repository.team_departments(session)
    moment_dept = _moment_departments(moments)
    units = repository.unit_names(session)
    journeys = repository.journey_names(session)
    if events.empty:
        return _empty(events, units, moments, journeys)
    events, contacts = _classified(session, settings, events, team_dept, moment_dept)
    inside = pd.Series(True, index=events.index)
    zone = str(settings.zone())
    local_day = events["occurred_at"].dt.tz_convert(zone).dt.date
    if date_from is not None:
        inside &= local_day >= date_from
    if date_to is not None:
        inside &= local_day < date_to
    return ContactAnalysis(events[inside], contacts[inside[contacts.index]], units, moments, journeys)


def _moment_departments(moments: pd.DataFrame) -> dict[int, int | None]:
    return {int(k): (None if pd.isna(v) else int(v)) for k, v in moments["department_id"].items()}


def _empty(events: pd.DataFrame, units, moments, journeys) -> ContactAnalysis:
    empty = events.assign(cost=[], contact=[], month=[], department=[])
    return ContactAnalysis(empty, empty.assign(reason=[], cause=[]), units, moments, journeys)


def _classified(session: Session, settings, events: pd.DataFrame, team_dept: dict,
                moment_dept: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every event priced (cost, contact, month, department) and every contact classified (+ reason, cause)."""
    events["cost"] = costs.event_costs(events, costs.CostRates.from_settings(settings))
    events["contact"] = costs.is_contact(events)
    events["month"] = costs.local_month(events["occurred_at"], settings.zone())
    events["department"] = [demand._department(t, m, team_dept, moment_dept)
                            for t, m in zip(events["team_id"].tolist(), events["moment_id"].tolist())]
    promises = repository.promise_frame(session)
    promises = promises[promises["case_id"].isin(set(events["case_id"].unique()))]
    frame = repository.codeframe(session)
    themes = demand.chasing_themes(frame)
    labelled = demand.classify(events, promises, team_dept, moment_dept, demand.DemandRules.from_settings(settings),
                               demand.chasing_texts(events, frame, themes),
                               repository.chasing_comments(session, themes))
    contacts = events[events["contact"]].join(labelled.rename(columns={"department": "cause"}))
    contacts["cause"] = pd.array([None if pd.isna(d) else int(d) for d in contacts["cause"]], dtype="Int64")
    return events, contacts


# --- the per-process cache ------------------------------------------------------------------------------------

@dataclass
class _Entry:
    events: pd.DataFrame  # every stored event, priced (without its attributes: only the price needs them)
    contacts: pd.DataFrame  # every contact, classified
    local_day: np.ndarray  # the local day as datetime64[ns] (midnight, naive), aligned with events
    case_id: np.ndarray


NULLABLE_IDS = ("team_id", "moment_id", "journey_id")
CACHE_SIZE = 2  # entries (databases x settings); one frame of the whole history each
_CACHE: OrderedDict[tuple, _Entry] = OrderedDict()
_LOCK = threading.Lock()


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def _settings_key(settings) -> tuple:
    return (float(settings.cost_per_minute), tuple(sorted((str(k).lower(), float(v))
                                                          for k, v in settings.contact_costs.items())),
            float(settings.failure_demand_days), float(settings.silence_hours), str(settings.zone()))


def _entry(session: Session, settings, team_dept: dict, moment_dept: dict) -> _Entry:
    key = (str(session.get_bind().url), repository.data_fingerprint(session), tuple(sorted(team_dept.items())),
           tuple(sorted(moment_dept.items())), _settings_key(settings))
    with _LOCK:  # one computation at a time: a second request waits for the first and reuses its frame
        entry = _CACHE.get(key)
        if entry is not None:
            _CACHE.move_to_end(key)
            return entry
        events = repository.event_frame(session)
        if not events.empty:
            events, contacts = _classified(session, settings, events, team_dept, moment_dept)
            events = events.drop(columns=["attributes"])
            contacts = contacts.drop(columns=["attributes"])
        else:
            contacts = events
        times = pd.to_datetime(events["occurred_at"], utc=True) if not events.empty else pd.Series(
            pd.DatetimeIndex([], tz="UTC"))
        entry = _Entry(events, contacts, times.dt.tz_convert(str(settings.zone())).dt.tz_localize(None).dt.normalize()
                       .to_numpy(dtype="datetime64[ns]"),
                       events["case_id"].to_numpy() if not events.empty else np.array([], dtype=np.int64))
        if repository.data_fingerprint(session) != key[1]:  # data arrived while reading: use it, keep nothing
            return entry
        _CACHE[key] = entry
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        return entry


def warm(session: Session, settings) -> bool:
    """Make sure the frame of the whole history for the current data and ``settings`` is in the cache (the
    job `investment.warm_cache`); True when it had to be computed."""
    moments = repository.moment_frame(session)
    with _LOCK:
        before = set(_CACHE)
    _entry(session, settings, repository.team_departments(session), _moment_departments(moments))
    with _LOCK:
        return set(_CACHE) != before


def contact_analysis(session: Session, settings, date_from: date | None = None,
                     date_to: date | None = None) -> ContactAnalysis:
    """Cost and demand of the events in [date_from, date_to) (local days), as `compute_contact_analysis` gives
    them, from the per-process frame of the whole history (computed again when the data or settings change).

    As the direct computation: only the cases with an event on the local days [date_from, date_to) count, and
    of those the events on those days."""
    moments = repository.moment_frame(session)
    team_dept = repository.team_departments(session)
    moment_dept = _moment_departments(moments)
    units = repository.unit_names(session)
    journeys = repository.journey_names(session)
    entry = _entry(session, settings, team_dept, moment_dept)
    inside = np.ones(len(entry.events), dtype=bool)  # the events on the local days of the period
    if date_from is not None:
        inside &= entry.local_day >= np.datetime64(date_from, "ns")
    if date_to is not None:
        inside &= entry.local_day < np.datetime64(date_to, "ns")
    # the cases concerned (those with an event in the period): their ids' dtype follows the direct computation
    selected = np.isin(entry.case_id, np.unique(entry.case_id[inside])) if not inside.all() else inside
    if not selected.any():
        return _empty(pd.DataFrame([], columns=[c for c in repository.EVENT_COLUMNS if c != "attributes"]),
                      units, moments, journeys)
    mask = pd.Series(inside, index=entry.events.index)
    events, contacts = entry.events[mask], entry.contacts[mask[entry.contacts.index]]
    # the direct computation reads only the selected cases: an id column without gaps there is integer
    whole = {c: "int64" for c in NULLABLE_IDS
             if events[c].dtype.kind == "f" and not entry.events.loc[selected, c].isna().any()}
    if whole:
        events, contacts = events.astype(whole), contacts.astype(whole)
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


def effect_slopes(session: Session, moments: pd.DataFrame, measure: str, date_from: date | None = None,
                  date_to: date | None = None, min_n: int = 30) -> dict[int, effect.Slope]:
    """Moment id -> the slope of ``measure`` (NPS points or grade points) on the moment's grade over the period's
    respondents (`effect.moment_slopes`): the compass's expected effect and its interval."""
    frames = repository.moment_answer_frames(session, date_from, date_to)
    return effect.moment_slopes(frames, moments, measure, min_n)


def team_table(analysis: ContactAnalysis, team_ids: list[int]) -> pd.DataFrame:
    """Per team (index: team id, in ``team_ids`` order): the cost to serve and the failure demand of its cases
    (the cases in which the team handled an event in the period, as the case list counts a team's cases):
    cases, cost of all their events, the team's own handling cost, cost per case, contacts, failure contacts,
    their share and cost."""
    events, contacts = analysis.events, analysis.contacts
    rows = []
    for team_id in team_ids:
        if events.empty:
            cases = []
        else:
            cases = events.loc[events["team_id"] == team_id, "case_id"].unique()
        mine = events[events["case_id"].isin(cases)] if len(cases) else events.iloc[0:0]
        asked = contacts[contacts["case_id"].isin(cases)] if len(cases) else contacts.iloc[0:0]
        failure = demand.is_failure(asked["reason"]) if len(asked) else pd.Series(dtype=bool)
        cost = float(mine["cost"].sum()) if len(mine) else 0.0
        rows.append({"team_id": team_id, "cases": len(cases), "cost": cost,
                     "own_cost": float(mine.loc[mine["team_id"] == team_id, "cost"].sum()) if len(mine) else 0.0,
                     "cost_per_case": cost / len(cases) if len(cases) else None,
                     "contacts": len(asked), "failure": int(failure.sum()) if len(asked) else 0,
                     "share": float(failure.mean()) if len(asked) else None,
                     "failure_cost": float(asked.loc[failure, "cost"].sum()) if len(asked) else 0.0})
    return pd.DataFrame(rows, columns=["team_id", "cases", "cost", "own_cost", "cost_per_case", "contacts",
                                       "failure", "share", "failure_cost"]).set_index("team_id")


def team_scope(analysis: ContactAnalysis, team_ids: list[int]) -> ContactAnalysis:
    """The analysis cut to the cases in which one of ``team_ids`` handled an event in the period."""
    events = analysis.events
    cases = events.loc[events["team_id"].isin(team_ids), "case_id"].unique() if not events.empty else []
    return ContactAnalysis(events[events["case_id"].isin(cases)], analysis.contacts[
        analysis.contacts["case_id"].isin(cases)], analysis.departments, analysis.moments, analysis.journeys)
