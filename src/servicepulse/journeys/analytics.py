"""Journey analytics from the stored events and case facts.

Per journey: cases, throughput (median, p90), and the effort facts as rates
(handoff, repeat contact, first time right, after-hours attempts) and the
dark period (median, p90). Per moment, in journey order: volume (cases and
events), time at the moment (median and p90 of the time from a case's first
event at the moment to its next event at another moment, or the case's last
event), and the same fact rates over the cases that passed the moment.
Variants and the directly-follows graph (frequency, median and mean time per arc).

Everything is computed in SQL by `process_repository` (the same statements on
SQLite, PostgreSQL and the ClickHouse analytics store): nothing is loaded per
event, so a year of one segment's events costs aggregate rows only. Percentiles
are NumPy's (linear interpolation) over the rows SQL picks by rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicepulse.analytics_store.reader import Reader, raw_reader
from servicepulse.journeys.process_repository import (
    FactFigures,
    ProcessFilter,
    cases_of,
    fact_figures,
    moment_cases,
    process_stats,
)
from servicepulse.models import Case, Journey, Moment

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
    mean_hours: dict[tuple[str, str], float] = field(default_factory=dict)  # mean hours per arc


def _figures(facts: FactFigures, hours: tuple[float | None, float | None], events: int) -> Figures:
    def rate(k: int, of: int) -> float | None:
        return k / of if of else None

    return Figures(
        cases=facts.cases, events=events, median_hours=hours[0], p90_hours=hours[1],
        handoff_rate=rate(facts.handoff, facts.cases), repeat_contact_rate=rate(facts.repeat_contact, facts.cases),
        first_time_right_rate=rate(facts.first_time_right, facts.closed),
        after_hours_rate=rate(facts.after_hours, facts.cases),
        dark_median_hours=facts.dark_hours[0], dark_p90_hours=facts.dark_hours[1],
        effort_mean=facts.effort_sum / facts.effort_n if facts.effort_n else None,
    )


def journey_view(source: Session | Reader, journey: Journey, f: ProcessFilter | None = None) -> JourneyView:
    """The journey's figures for the cases in ``f`` (all the journey's cases when None)."""
    reader = raw_reader(source)
    f = f or ProcessFilter(journey.id)
    stats = process_stats(reader, f)
    total_facts = fact_figures(reader, cases_of(f))
    total = _figures(total_facts, total_facts.throughput_hours, stats.events)
    moments = []
    for moment in journey.moments:
        n, p50, p90 = stats.moment_hours.get(moment.id, (0, None, None))
        facts = fact_figures(reader, moment_cases(reader, f, moment.id)) if n else FactFigures(
            0, (None, None), (None, None), 0, 0, 0, 0, 0, 0, 0.0)
        moments.append(MomentFigures(moment, _figures(facts, (p50, p90), stats.moment_events.get(moment.id, 0))))
    dfg = [(a, b, c, median) for a, b, c, median, _ in stats.arcs]
    return JourneyView(journey, total, moments, stats.variants[:TOP_VARIANTS], len(stats.variants), dfg,
                       stats.activities, stats.starts, mean_hours={(a, b): mean for a, b, _, _, mean in stats.arcs})


def journeys_summary(session: Session) -> list[tuple[Journey, int]]:
    counts = dict(session.execute(select(Case.journey_id, func.count()).group_by(Case.journey_id)).all())
    return [(j, int(counts.get(j.id, 0))) for j in session.scalars(select(Journey).order_by(Journey.id))]
