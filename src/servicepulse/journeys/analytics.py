"""Journey analytics from the stored events and case facts.

Per journey: cases, throughput (median, p90), and the effort facts as rates
(handoff, repeat contact, first time right, after-hours attempts) and the
dark period (median, p90). Per moment, in journey order: volume (cases and
events), time at the moment (median and p90 of the time from a case's first
event at the moment to its next event at another moment, or the case's last
event), and the same fact rates over the cases that passed the moment.
Variants and the directly-follows graph (frequency and median time per arc)
use the kernel (`eventlog.variant_counts`, `eventlog.log_stats` ordering).

Percentiles are NumPy's (linear interpolation), computed on the case-level
rows loaded for one journey (at most `MAX_CASES` most recent cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.kernels.eventlog import log_stats, variant_counts
from servicepulse.models import Case, CaseEvent, Journey, Moment
from servicepulse.models.cases import CaseFacts

MAX_CASES = 50_000
TOP_VARIANTS = 10


@dataclass
class Figures:
    cases: int
    events: int
    median_hours: float | None
    p90_hours: float | None
    handoff_rate: float | None
    repeat_contact_rate: float | None
    first_time_right_rate: float | None
    after_hours_rate: float | None
    dark_median_hours: float | None
    dark_p90_hours: float | None
    effort_mean: float | None


@dataclass
class MomentFigures:
    moment: Moment
    figures: Figures


@dataclass
class JourneyView:
    journey: Journey
    total: Figures
    moments: list[MomentFigures]
    variants: list[tuple[tuple[str, ...], int]]
    n_variants: int
    dfg: list[tuple[str, str, int, float]]  # a, b, count, median hours
    activities: dict[str, int] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)  # cases per first activity


def _pct(values: np.ndarray, q: float) -> float | None:
    values = values[~np.isnan(values)]
    return float(np.percentile(values, q)) if len(values) else None


def _rate(mask: np.ndarray) -> float | None:
    return float(np.mean(mask)) if len(mask) else None


def _facts_figures(facts: pd.DataFrame, hours: np.ndarray, events: int) -> Figures:
    closed = facts["closed"].to_numpy(dtype=bool)
    effort = facts["effort_index"].to_numpy(dtype=float)
    return Figures(
        cases=len(facts), events=events, median_hours=_pct(hours, 50), p90_hours=_pct(hours, 90),
        handoff_rate=_rate(facts["handoffs"].to_numpy() > 0),
        repeat_contact_rate=_rate(facts["repeat_contacts"].to_numpy() > 0),
        first_time_right_rate=_rate(facts["first_time_right"].to_numpy(dtype=bool)[closed]),
        after_hours_rate=_rate(facts["after_hours_contacts"].to_numpy() > 0),
        dark_median_hours=_pct(facts["dark_period_hours"].to_numpy(dtype=float), 50),
        dark_p90_hours=_pct(facts["dark_period_hours"].to_numpy(dtype=float), 90),
        effort_mean=float(np.nanmean(effort)) if np.isfinite(effort).any() else None,
    )


def load_journey_events(session: Session, journey_id: int, max_cases: int = MAX_CASES) -> pd.DataFrame:
    recent = (select(Case.id).where(Case.journey_id == journey_id)
              .order_by(Case.opened_at.desc().nulls_last(), Case.id.desc()).limit(max_cases).subquery())
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.activity, CaseEvent.occurred_at, CaseEvent.moment_id)
        .where(CaseEvent.case_id.in_(select(recent.c.id)))
        .order_by(CaseEvent.case_id, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id)).all()
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "timestamp", "moment_id"])
    frame["case_id"] = frame["case_id"].astype(str)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.as_unit("us")
    frame["file_order"] = np.arange(len(frame))
    return frame


def load_facts(session: Session, case_ids: list[int]) -> pd.DataFrame:
    cols = ["case_id", "throughput_days", "handoffs", "repeat_contacts", "first_time_right", "closed",
            "after_hours_contacts", "dark_period_hours", "effort_index"]
    rows = []
    for start in range(0, len(case_ids), 5_000):
        part = case_ids[start:start + 5_000]
        rows += session.execute(select(*(getattr(CaseFacts, c) for c in cols))
                                .where(CaseFacts.case_id.in_(part))).all()
    frame = pd.DataFrame(rows, columns=cols).set_index("case_id")
    frame.index = frame.index.astype(str)
    frame["effort_index"] = frame["effort_index"].astype(float)
    return frame


def moment_times(events: pd.DataFrame) -> pd.DataFrame:
    """Per (case, moment): hours from the first event at the moment to the next event at another moment
    (or the case's last event)."""
    e = events.reset_index(drop=True)
    if e.empty:
        return pd.DataFrame(columns=["case_id", "moment_id", "hours"])
    m = e["moment_id"].to_numpy(dtype=float)
    case = e["case_id"].to_numpy()
    ts = e["timestamp"].dt.tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    # runs of the same moment within a case
    new_run = np.ones(len(e), dtype=bool)
    new_run[1:] = (case[1:] != case[:-1]) | ~((m[1:] == m[:-1]) | (np.isnan(m[1:]) & np.isnan(m[:-1])))
    starts = np.flatnonzero(new_run)
    ends_next = np.append(starts[1:], len(e))  # index of the next run's first event
    last_of_case = pd.Series(np.arange(len(e))).groupby(case).transform("max").to_numpy()
    nxt = np.where((ends_next < len(e)) & (case[np.minimum(ends_next, len(e) - 1)] == case[starts]),
                   ends_next, last_of_case[starts])
    hours = (ts[nxt] - ts[starts]) / 3.6e9
    runs = pd.DataFrame({"case_id": case[starts], "moment_id": m[starts], "hours": hours})
    runs = runs[runs["moment_id"].notna()]
    # a case that comes back to a moment: its time there is the sum of its visits
    return runs.groupby(["case_id", "moment_id"], as_index=False)["hours"].sum()


def directly_follows_times(events: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Median hours between consecutive events per (a, b) arc."""
    e = events
    same = e["case_id"].to_numpy()[1:] == e["case_id"].to_numpy()[:-1]
    ts = e["timestamp"].dt.tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64)
    act = e["activity"].to_numpy(dtype=object)
    pairs = pd.DataFrame({"a": act[:-1][same], "b": act[1:][same], "h": ((ts[1:] - ts[:-1]) / 3.6e9)[same]})
    return pairs.groupby(["a", "b"])["h"].median().to_dict()


def journey_view(session: Session, journey: Journey) -> JourneyView:
    events = load_journey_events(session, journey.id)
    ids = sorted({int(c) for c in events["case_id"].unique()})
    facts = load_facts(session, ids)
    total = _facts_figures(facts, facts["throughput_days"].to_numpy(dtype=float) * 24.0, len(events))
    times = moment_times(events)
    counts = events.groupby("moment_id").size() if len(events) else pd.Series(dtype=int)
    moments = []
    for moment in journey.moments:
        t = times[times["moment_id"] == moment.id]
        f = facts.reindex(pd.unique(t["case_id"])).dropna(subset=["closed"])
        fig = _facts_figures(f, t["hours"].to_numpy(dtype=float), int(counts.get(float(moment.id), 0)))
        moments.append(MomentFigures(moment, fig))
    if len(events):
        ordered = events.sort_values(["case_id", "timestamp", "file_order"], kind="stable")
        stats = log_stats(events)
        variants = sorted(variant_counts(events).items(), key=lambda kv: (-kv[1], kv[0]))
        times_by_arc = directly_follows_times(ordered)
        dfg = [(a, b, c, times_by_arc.get((a, b), float("nan"))) for a, b, c in stats["directly_follows"]]
        activities = stats["activities"]
        starts: dict[str, int] = {}
        for route, n in variants:  # all variants, before the top ones are picked
            starts[route[0]] = starts.get(route[0], 0) + n
    else:
        variants, dfg, activities, starts = [], [], {}, {}
    return JourneyView(journey, total, moments, variants[:TOP_VARIANTS], len(variants), dfg, activities, starts)


def journeys_summary(session: Session) -> list[tuple[Journey, int]]:
    from sqlalchemy import func

    counts = dict(session.execute(select(Case.journey_id, func.count()).group_by(Case.journey_id)).all())
    return [(j, int(counts.get(j.id, 0))) for j in session.scalars(select(Journey).order_by(Journey.id))]
