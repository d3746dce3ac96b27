"""Process statistics of one journey in SQL: the same statements on SQLite, PostgreSQL and ClickHouse.

Nothing is loaded per event: window functions (``row_number``, ``lag``, a running concatenation for the
variants) order each case's events by (occurred_at, seq, id), as the event-log kernel orders them, and
``GROUP BY`` counts what the page shows. Times are exact integer microseconds on every engine
(``epoch_micros``); medians and p90s come from the two rows NumPy's linear interpolation reads, picked in SQL
by rank (``percentile_ranks``), so a year of events for one segment costs a few aggregate rows, not a frame.

Which cases: those of the journey opened in the period (``opened_at``, UTC days, ``date_to`` exclusive),
of customers in the segment, last worked by the team (``cases.last_team_id``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from servicepulse.analytics_store.reader import (
    Reader,
    day_start,
    epoch_micros,
    interpolate,
    is_true,
    needed_rank,
    percentile_ranks,
    raw_reader,
)
from servicepulse.models import Case, CaseEvent, CaseFacts, Customer

US_PER_HOUR = 3_600_000_000
QS = (50, 90)
VARIANT_SEP = "\x1f"  # unit separator: no activity holds a control character (kernels/eventlog/schema.py)


@dataclass(frozen=True)
class ProcessFilter:
    journey_id: int
    date_from: date | None = None
    date_to: date | None = None  # exclusive
    team_id: int | None = None
    segment: str | None = None


def scope(f: ProcessFilter):
    """The ids of the cases in scope, as a subquery."""
    where = [Case.journey_id == f.journey_id]
    if f.date_from is not None:
        where.append(Case.opened_at >= day_start(f.date_from))
    if f.date_to is not None:
        where.append(Case.opened_at < day_start(f.date_to))
    if f.team_id is not None:
        where.append(Case.last_team_id == f.team_id)
    if f.segment is not None:
        where.append(Case.customer_id.in_(select(Customer.id).where(Customer.segment == f.segment)))
    return select(Case.id).where(*where)


def _ordered(reader: Reader, f: ProcessFilter, *extra):
    """The events of the cases in scope with their place in the case: ``rn`` (1-based), ``n`` (events of the
    case), ``us`` (microseconds), the previous event's activity and time, the case's last time and whether the
    event starts a run of one moment (the previous event is at another moment, or there is none)."""
    e = CaseEvent
    order = [e.occurred_at, e.seq, e.id]
    us = epoch_micros(e.occurred_at, reader.dialect)
    moment = func.coalesce(e.moment_id, -1)
    window = {"partition_by": e.case_id, "order_by": order}
    return (select(e.case_id.label("case_id"), e.activity.label("activity"), e.moment_id.label("moment_id"),
                   us.label("us"),
                   func.row_number().over(**window).label("rn"),
                   func.count().over(partition_by=e.case_id).label("n"),
                   func.lag(e.activity, 1, "").over(**window).label("prev_activity"),
                   func.lag(us, 1, 0).over(**window).label("prev_us"),
                   func.max(us).over(partition_by=e.case_id).label("last_us"),
                   (func.lag(moment, 1, -2).over(**window) != moment).label("run_start"),
                   *extra)
            .where(e.case_id.in_(scope(f))))


def _running_concat(expr, window: dict, dialect: str):
    """The activities so far in the case, joined by VARIANT_SEP (a window function on every engine)."""
    if dialect == "sqlite":
        return func.group_concat(expr, VARIANT_SEP).over(**window)
    if dialect == "clickhouse":
        return func.arrayStringConcat(func.groupArray(expr).over(**window), VARIANT_SEP)
    return func.string_agg(expr, literal(VARIANT_SEP)).over(**window)


@dataclass
class ProcessStats:
    events: int
    activities: dict[str, int]  # events per activity, most first
    starts: dict[str, int]  # cases per first activity
    arcs: list[tuple[str, str, int, float, float]]  # a, b, count, median hours, mean hours; most frequent first
    variants: list[tuple[tuple[str, ...], int]]  # every variant with its cases, most first
    moment_events: dict[int, int]  # events per moment id
    moment_hours: dict[int, tuple[int, float | None, float | None]]  # moment -> (cases, median h, p90 h)


def process_stats(source: Session | Reader, f: ProcessFilter) -> ProcessStats:
    reader = raw_reader(source)
    ev = _ordered(reader, f).subquery("ev")

    counted = reader.rows(select(ev.c.activity, func.count(), func.sum(case((ev.c.rn == 1, 1), else_=0)))
                          .group_by(ev.c.activity))
    activities = sorted(((a, int(n)) for a, n, _ in counted), key=lambda x: (-x[1], x[0]))
    starts = {a: int(k) for a, _, k in counted if k}
    moment_events = {int(m): int(n) for m, n in reader.rows(
        select(ev.c.moment_id, func.count()).where(ev.c.moment_id.is_not(None)).group_by(ev.c.moment_id))}

    # arcs: count, total (for the mean) and the rows the median needs, from one ranked pass over the gaps
    pairs = select(ev.c.prev_activity.label("a"), ev.c.activity.label("b"), (ev.c.us - ev.c.prev_us).label("d")
                   ).where(ev.c.rn > 1).subquery("pairs")
    rank, n = percentile_ranks(pairs.c.d, [pairs.c.a, pairs.c.b])
    total = func.sum(pairs.c.d).over(partition_by=[pairs.c.a, pairs.c.b])
    ranked = select(pairs.c.a, pairs.c.b, pairs.c.d, rank.label("rank"), n.label("n"), total.label("total")
                    ).subquery("ranked")
    picked: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    sizes: dict[tuple[str, str], tuple[int, int]] = {}
    for a, b, d, r, k, t in reader.rows(select(ranked.c.a, ranked.c.b, ranked.c.d, ranked.c.rank, ranked.c.n,
                                               ranked.c.total).where(needed_rank(ranked.c.rank, ranked.c.n, (50,)))):
        picked[(a, b)][int(r)] = int(d)
        sizes[(a, b)] = (int(k), int(t))
    arcs = []
    for (a, b), (c, t) in sizes.items():
        median = interpolate(picked[(a, b)], c, (50,))[0]
        arcs.append((a, b, c, median / US_PER_HOUR, t / c / US_PER_HOUR))
    arcs.sort(key=lambda x: (-x[2], x[0], x[1]))

    # variants: each case's running concatenation at its last event
    window = {"partition_by": CaseEvent.case_id, "order_by": [CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.id]}
    routes = _ordered(reader, f, _running_concat(CaseEvent.activity, window, reader.dialect).label("route")
                      ).subquery("routes")
    variants = sorted(((tuple(route.split(VARIANT_SEP)), int(k)) for route, k in reader.rows(
        select(routes.c.route, func.count()).where(routes.c.rn == routes.c.n).group_by(routes.c.route))),
        key=lambda x: (-x[1], x[0]))

    moment_hours = _moment_hours(reader, _visits_per_case(reader, ev))
    return ProcessStats(sum(n for _, n in activities), dict(activities), starts, arcs, variants, moment_events,
                        moment_hours)


def _visits_per_case(reader: Reader, ev):
    """Per (case, moment): the time spent there, from the first event of a visit to the next event at another
    moment (or the case's last event), summed over the case's visits, in microseconds (``d``)."""
    runs = select(ev.c.case_id, ev.c.moment_id, ev.c.us, ev.c.last_us, ev.c.rn).where(
        is_true(ev.c.run_start)).subquery("runs")
    backwards = {"partition_by": runs.c.case_id, "order_by": runs.c.rn.desc()}  # lag backwards: the next visit
    visits = select(runs.c.case_id, runs.c.moment_id,
                    (func.lag(runs.c.us, 1, runs.c.last_us).over(**backwards) - runs.c.us).label("d")
                    ).subquery("visits")
    return (select(visits.c.case_id, visits.c.moment_id, func.sum(visits.c.d).label("d"))
            .where(visits.c.moment_id.is_not(None)).group_by(visits.c.case_id, visits.c.moment_id)
            .subquery("per_case"))


def _moment_hours(reader: Reader, per_case) -> dict[int, tuple[int, float | None, float | None]]:
    rank, n = percentile_ranks(per_case.c.d, [per_case.c.moment_id])
    ranked = select(per_case.c.moment_id, per_case.c.d, rank.label("rank"), n.label("n")).subquery("ranked_visits")
    picked: dict[int, dict[int, int]] = defaultdict(dict)
    sizes: dict[int, int] = {}
    for m, d, r, k in reader.rows(select(ranked.c.moment_id, ranked.c.d, ranked.c.rank, ranked.c.n)
                                  .where(needed_rank(ranked.c.rank, ranked.c.n, QS))):
        picked[int(m)][int(r)] = int(d)
        sizes[int(m)] = int(k)
    hours = {}
    for m, k in sizes.items():
        p50, p90 = (v / US_PER_HOUR for v in interpolate(picked[m], k, QS))
        hours[m] = (k, p50, p90)
    return hours


def moment_cases(source: Session | Reader, f: ProcessFilter, moment_id: int):
    """The ids of the cases in scope that passed the moment (a subquery, for their facts)."""
    reader = raw_reader(source)
    per_case = _visits_per_case(reader, _ordered(reader, f).subquery("ev"))
    return select(per_case.c.case_id).where(per_case.c.moment_id == moment_id)


FACT_QS = (50, 90)


@dataclass
class FactFigures:
    cases: int
    throughput_hours: tuple[float | None, float | None]  # median, p90
    dark_hours: tuple[float | None, float | None]
    handoff: int
    repeat_contact: int
    after_hours: int
    closed: int
    first_time_right: int  # of the closed
    effort_n: int
    effort_sum: float


def fact_figures(source: Session | Reader, case_ids) -> FactFigures:
    """The case facts of ``case_ids`` (a subquery of case ids) summed, with the median and p90 of throughput
    and dark period (picked by rank, as the process times)."""
    reader = raw_reader(source)
    cf = CaseFacts
    mine = cf.case_id.in_(case_ids)
    closed = is_true(cf.closed)

    def sum_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = reader.rows(select(
        func.count(), sum_if(cf.handoffs > 0), sum_if(cf.repeat_contacts > 0), sum_if(cf.after_hours_contacts > 0),
        sum_if(closed), sum_if(and_(closed, is_true(cf.first_time_right))), func.count(cf.effort_index),
        func.coalesce(func.sum(cf.effort_index), 0.0)).where(mine))[0]
    out = []
    for column in (cf.throughput_days, cf.dark_period_hours):
        value = column
        rank, n = percentile_ranks(value, [])
        ranked = select(value.label("v"), rank.label("rank"), n.label("n")).where(mine, column.is_not(None)).subquery()
        rows = reader.rows(select(ranked.c.v, ranked.c.rank, ranked.c.n)
                           .where(needed_rank(ranked.c.rank, ranked.c.n, FACT_QS)))
        found = {int(r): float(v) for v, r, _ in rows}
        out.append(tuple(interpolate(found, int(rows[0][2]) if rows else 0, FACT_QS)))
    throughput = tuple(None if v is None else v * 24.0 for v in out[0])
    return FactFigures(int(row[0]), throughput, out[1], *(int(v) for v in row[1:7]), float(row[7]))


def cases_of(f: ProcessFilter):
    """The cases in scope that have events (what the page counts)."""
    return select(CaseEvent.case_id).where(CaseEvent.case_id.in_(scope(f))).distinct()


__all__ = ["FactFigures", "ProcessFilter", "ProcessStats", "cases_of", "fact_figures", "moment_cases",
           "process_stats", "scope"]
