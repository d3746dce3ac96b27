"""Queries behind the experience metrics: portable SQL aggregates, no Python loops over rows.

Every metric is computed from a handful of sums per group (``FIGURE_COLUMNS``),
produced by one ``GROUP BY`` with ``SUM(CASE ...)``. The same sums come either
from the raw ``responses`` table or from the ``score_daily_counts`` aggregate
(counts of each score value per day and dimension), so both paths give the
same numbers; the aggregate is what keeps the dashboard fast at tens of
millions of responses. A figure from the aggregate reads the coarsest roll-up
that answers it (whole months from the month roll-up, the days around them
from the day roll-up) and sums ``n`` per measure and value before the
conditional sums. Period buckets are ISO date strings ('YYYY-MM-DD' of
the first day of the day, ISO week or month, in UTC) on SQLite and PostgreSQL.

Moment grades live in ``answers`` under the question key ``moment_<moment key>``
(the journey survey); they are matched to the moment of that key within the
journey of the response's case (or any journey when the case has none).

The aggregate is written by its owner, ``servicepulse.responses`` (rebuild, ingest deltas, the hourly fold),
which also defines a response's journey and moment match for both paths; this module only reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date
from functools import lru_cache

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, and_, case, cast, exists, func, literal, null, or_, select
from sqlalchemy import column as named_column
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from servicepulse.analytics_store.reader import CLICKHOUSE, DUCKDB, Reader, is_true, raw_reader, reader_of
from servicepulse.cases import load_events
from servicepulse.kernels.eventlog import case_facts
from servicepulse.kernels.text import redact
from servicepulse.models import (
    Answer,
    Case,
    CaseEvent,
    CaseFacts,
    Customer,
    Journey,
    Moment,
    OrgUnit,
    Promise,
    Response,
    ScoreDailyCount,
    SurveyVersion,
)
from servicepulse.models.responses import GRAIN_DAY, GRAIN_DETAIL, GRAIN_MONTH
from servicepulse.responses import (
    MOMENT_KEY_PREFIX,
    day_start,
    first_response_day,
    last_aggregated_day,
    last_response_day,
    moment_match,
    next_month,
    response_base,
    response_journey,
)
from servicepulse.verbatims import VerbatimSettings

PERIODS = ("day", "week", "month")
DIMENSIONS = ("journey", "moment", "channel", "team", "segment", "period")

# The sums every metric is computed from (see service.figures_from_sums).
FIGURE_COLUMNS = (
    "responses", "nps_n", "detractors", "passives", "promoters",
    "grade_n", "grade_sum", "grade_sq", "grade_7", "grade_9",
    "csat_n", "csat_top2", "ces_n", "ces_sum", "ces_sq", "ces_easy",
)
MOMENT_COLUMNS = ("grade_n", "grade_sum", "grade_sq", "grade_7", "grade_9")


@dataclass(frozen=True)
class MetricFilter:
    """Which responses a figure is about. Dates are UTC days: ``date_from`` inclusive, ``date_to`` exclusive."""

    journey_id: int | None = None
    moment_id: int | None = None
    channel: str | None = None
    team_id: int | None = None
    segment: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    language: str | None = None  # the response's language; the daily aggregate has no such column: raw path
    survey_id: int | None = None  # responses to any version of one survey; raw path as well


def _needs_raw(f: MetricFilter | None) -> bool:
    """Whether a filter names something the daily aggregate does not hold (language, survey)."""
    return f is not None and (f.language is not None or f.survey_id is not None)


# -- dialect-aware pieces --------------------------------------------------

def period_bucket(expr: ColumnElement, period: str, dialect: str, *, is_date: bool = False) -> ColumnElement:
    """First day of the day / ISO week (Monday) / month containing ``expr``, as 'YYYY-MM-DD' text (UTC)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    if dialect == "sqlite":
        if period == "day":
            return func.strftime("%Y-%m-%d", expr)
        if period == "week":  # to the next Sunday (or stay), then back six days: the Monday
            return func.date(expr, "weekday 0", "-6 days")
        return func.strftime("%Y-%m-01", expr)
    if dialect == CLICKHOUSE:  # timestamps are DateTime64(6, 'UTC'): the calendar is UTC's, as on the others
        day = {"day": func.toDate, "week": func.toMonday, "month": func.toStartOfMonth}[period](expr)
        return func.formatDateTime(day, "%Y-%m-%d")
    if dialect == DUCKDB:  # TIMESTAMPTZ in a session whose TimeZone is UTC
        return func.strftime(func.date_trunc(period, expr), "%Y-%m-%d")
    stamp = cast(expr, DateTime(timezone=False)) if is_date else expr.op("AT TIME ZONE")(literal("UTC"))
    return func.to_char(func.date_trunc(period, stamp), "YYYY-MM-DD")


def _dialect(session: Session | Reader) -> str:
    return reader_of(session).dialect


def _sum_if(condition, value=1) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


# -- raw path -------------------------------------------------------------------

@lru_cache(maxsize=1)
def _raw_sums():
    r = Response
    return [
        func.count().label("responses"),
        func.count(r.nps).label("nps_n"),
        _sum_if(r.nps <= 6).label("detractors"),
        _sum_if(r.nps.between(7, 8)).label("passives"),
        _sum_if(r.nps >= 9).label("promoters"),
        func.count(r.grade).label("grade_n"),
        func.coalesce(func.sum(r.grade), 0).label("grade_sum"),
        func.coalesce(func.sum(r.grade * r.grade), 0).label("grade_sq"),
        _sum_if(r.grade >= 7).label("grade_7"),
        _sum_if(r.grade >= 9).label("grade_9"),
        func.count(r.csat).label("csat_n"),
        _sum_if(r.csat >= 4).label("csat_top2"),
        func.count(r.ces).label("ces_n"),
        func.coalesce(func.sum(r.ces), 0).label("ces_sum"),
        func.coalesce(func.sum(r.ces * r.ces), 0).label("ces_sq"),
        _sum_if(r.ces >= 5).label("ces_easy"),
    ]


def _raw_dimensions(dialect: str, period: str, journey_expr, segment_expr) -> dict[str, ColumnElement]:
    return {
        "journey": journey_expr,
        "moment": Response.moment_id,
        "channel": Response.channel,
        "team": Response.team_id,
        "segment": segment_expr,
        "period": period_bucket(Response.submitted_at, period, dialect),
    }


def _raw_where(f: MetricFilter, journey_expr, segment_expr, moment_col=Response.moment_id) -> list:
    where = [is_true(Response.completed)]  # only submitted responses count (saved partial answers do not)
    if f.journey_id is not None:
        where.append(journey_expr == f.journey_id)
    if f.moment_id is not None:
        where.append(moment_col == f.moment_id)
    if f.channel is not None:
        where.append(Response.channel == f.channel)
    if f.team_id is not None:
        where.append(Response.team_id == f.team_id)
    if f.segment is not None:
        where.append(segment_expr == f.segment)
    if f.language is not None:
        where.append(Response.language == f.language)
    if f.survey_id is not None:
        where.append(Response.survey_version_id.in_(select(SurveyVersion.id)
                                                    .where(SurveyVersion.survey_id == f.survey_id)))
    if f.date_from is not None:
        where.append(Response.submitted_at >= day_start(f.date_from))
    if f.date_to is not None:
        where.append(Response.submitted_at < day_start(f.date_to))
    return where


def _in_journey(journey_id: int) -> ColumnElement:
    """The response's journey (its moment's, else its case's: ``response_journey``) is ``journey_id``, as IN
    lists of moment and case ids: no join, a hash set on every engine."""
    return or_(Response.moment_id.in_(select(Moment.id).where(Moment.journey_id == journey_id)),
               and_(Response.moment_id.is_(None),
                    Response.case_id.in_(select(Case.id).where(Case.journey_id == journey_id))))


def _lean_parts():
    """The aliases ``_lean_base`` joins and the journey and segment expressions over them."""
    rm, rc, journey = response_journey()
    cu = aliased(Customer, name="cu")
    return rm, rc, cu, journey, cu.segment


def _lean_base(stmt, f: MetricFilter, by: str | None = None, parts=None):
    """(``stmt`` over responses, its WHERE list): the rows of ``response_base`` + ``_raw_where``, joined to
    moments, cases and customers only to group by journey or segment (``parts``: the aliases, when the
    statement's columns use them); a journey or segment filter is an IN list instead (a join per query is
    what a column store pays most for over tens of millions of rows)."""
    rm, rc, cu, journey, _ = parts or _lean_parts()
    stmt = stmt.select_from(Response)
    if by == "journey":
        stmt = stmt.outerjoin(rm, rm.id == Response.moment_id).outerjoin(rc, rc.id == Response.case_id)
    if by == "segment":
        stmt = stmt.outerjoin(cu, cu.id == Response.customer_id)
    where = _raw_where(replace(f, journey_id=None, segment=None), journey, cu.segment)
    if f.journey_id is not None:
        where.append(_in_journey(f.journey_id))
    if f.segment is not None:
        where.append(Response.customer_id.in_(select(Customer.id).where(Customer.segment == f.segment)))
    return stmt, where


# -- aggregate path ----------------------------------------------------------------

HEADLINE_MEASURES = ("responses", "nps", "grade", "ces", "csat")


@lru_cache(maxsize=1)  # built once: the expressions are immutable and take a while to build
def _daily_sums():
    """The figure sums over the per-(measure, value) totals of ``_daily_totals`` (columns named, not bound to a
    table, so that the expressions are built once and the statement stays in SQLAlchemy's compiled cache)."""
    m, v, n = named_column("measure"), named_column("value"), named_column("n")

    def total(measure, condition=None, value=None):
        cond = m == measure if condition is None else and_(m == measure, condition)
        return func.coalesce(func.sum(case((cond, n if value is None else value * n), else_=0)), 0)

    return [
        total("responses").label("responses"),
        total("nps").label("nps_n"),
        total("nps", v <= 6).label("detractors"),
        total("nps", v.between(7, 8)).label("passives"),
        total("nps", v >= 9).label("promoters"),
        total("grade").label("grade_n"),
        total("grade", value=v).label("grade_sum"),
        total("grade", value=v * v).label("grade_sq"),
        total("grade", v >= 7).label("grade_7"),
        total("grade", v >= 9).label("grade_9"),
        total("csat").label("csat_n"),
        total("csat", v >= 4).label("csat_top2"),
        total("ces").label("ces_n"),
        total("ces", value=v).label("ces_sum"),
        total("ces", value=v * v).label("ces_sq"),
        total("ces", v >= 5).label("ces_easy"),
    ]


def _daily_totals(key: ColumnElement | None, where: list):
    """Step one of a daily-path figure: ``n`` summed per (key,) measure and value, a few dozen rows per key.

    The sixteen conditional sums of ``_daily_sums`` then run over these rows
    instead of over every aggregate row of the span (thousands on a day-grain
    span): the expensive CASE expressions are evaluated far less often.
    """
    d = ScoreDailyCount
    keys = [key.label("key")] if key is not None else []
    return (select(*keys, d.measure.label("measure"), d.value.label("value"), func.sum(d.n).label("n"))
            .where(*where, d.measure.in_(HEADLINE_MEASURES))
            .group_by(*([key] if key is not None else []), d.measure, d.value)
            .subquery("totals"))


def _daily_dimensions(dialect: str, period: str) -> dict[str, ColumnElement]:
    d = ScoreDailyCount
    return {"journey": d.journey_id, "moment": d.moment_id, "channel": d.channel, "team": d.team_id,
            "segment": d.segment, "period": period_bucket(d.day, period, dialect, is_date=True)}


def choose_grain(f: MetricFilter, by: str | None = None, period: str = "month") -> int:
    """The coarsest roll-up of score_daily_counts that answers the query exactly."""
    if f.channel is not None or f.team_id is not None or f.segment is not None or by in ("channel", "team", "segment"):
        return GRAIN_DETAIL
    if (by == "period" and period != "month") or any(d is not None and d.day != 1 for d in (f.date_from, f.date_to)):
        return GRAIN_DAY
    return GRAIN_MONTH


def _daily_where(f: MetricFilter, grain: int | None = GRAIN_DETAIL) -> list:
    d = ScoreDailyCount
    where = [] if grain is None else [d.grain == grain]
    for value, column in ((f.journey_id, d.journey_id), (f.moment_id, d.moment_id), (f.channel, d.channel),
                          (f.team_id, d.team_id), (f.segment, d.segment)):
        if value is not None:
            where.append(column == value)
    if f.date_from is not None:
        where.append(d.day >= f.date_from)
    if f.date_to is not None:
        where.append(d.day < f.date_to)
    return where


def _span_where(f: MetricFilter, by: str | None = None, period: str = "month") -> list:
    """``_daily_where`` at the grain ``choose_grain`` picks; a span that needs the day roll-up reads it only for
    the days outside the whole months it covers, and the month roll-up for those months (the two hold the same
    counts, so the sum is exact): a 31-day span reads two months and a few days instead of 31 days."""
    grain = choose_grain(f, by, period)
    if grain != GRAIN_DAY or by == "period":  # day and week buckets need the day rows
        return _daily_where(f, grain)
    first = None if f.date_from is None else (f.date_from if f.date_from.day == 1 else next_month(f.date_from))
    last = None if f.date_to is None else f.date_to.replace(day=1)
    if first is not None and last is not None and first >= last:
        return _daily_where(f, grain)
    d = ScoreDailyCount
    months = _daily_where(MetricFilter(**{**f.__dict__, "date_from": first, "date_to": last}), GRAIN_MONTH)
    edges = [d.day < first] if first is not None else []
    edges += [d.day >= last] if last is not None else []
    return [or_(and_(*months), and_(*_daily_where(f, GRAIN_DAY), or_(*edges)))]


def has_daily_counts(session: Session) -> bool:
    """Whether the aggregate exists and reaches the day of the latest response (both index lookups).

    A cheap guard against a forgotten refresh: answers added later to days
    that are already aggregated are not detected here; the ingest paths add
    them (``servicepulse.responses.add_to_daily_counts``).
    """
    last_day = last_aggregated_day(session)
    if last_day is None:
        return False
    latest = session.scalar(select(func.max(Response.submitted_at)))
    return latest is None or latest.astimezone(UTC).date() <= last_day


def _resolve_source(session: Session | Reader, source: str, f: MetricFilter | None = None) -> str:
    """'daily' or 'raw'. Given a ``Reader`` rather than a session (the analytics store, or a test running one
    engine), 'auto' reads the raw rows: the aggregate's freshness is the main database's to tell."""
    if source not in ("auto", "raw", "daily"):
        raise ValueError(f"source must be 'auto', 'raw' or 'daily', got {source!r}")
    if source == "daily" and _needs_raw(f):
        raise ValueError("the daily aggregate cannot filter by language or survey")
    if source == "auto":
        if isinstance(session, Reader):
            return "raw"
        return "daily" if not _needs_raw(f) and has_daily_counts(session) else "raw"
    return source


def _check_by(by: str | None) -> None:
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"group by must be one of {', '.join(DIMENSIONS)}, got {by!r}")


def metric_sums(session: Session, f: MetricFilter = MetricFilter(), by: str | None = None, period: str = "month",
                source: str = "auto") -> pd.DataFrame:
    """The sums of ``FIGURE_COLUMNS`` per group (``key`` column; one row when ``by`` is None)."""
    _check_by(by)
    daily = _resolve_source(session, source, f) == "daily"
    reader = reader_of(session) if daily else raw_reader(session)
    dialect = reader.dialect
    if daily:
        # periods are bucketed after step one: formatting a date costs more than summing a row
        inner_key = ScoreDailyCount.day if by == "period" else _daily_dimensions(dialect, period)[by] if by else None
        totals = _daily_totals(inner_key, _span_where(f, by, period))
        key = None if not by else (
            period_bucket(totals.c.key, period, dialect, is_date=True) if by == "period" else totals.c.key)
        stmt = select(*([key.label("key")] if by else []), *_daily_sums()).select_from(totals)
    else:
        parts = _lean_parts()
        key = _raw_dimensions(dialect, period, parts[3], parts[4])[by] if by else None
        stmt, where = _lean_base(select(*([key.label("key")] if by else []), *_raw_sums()), f, by, parts)
        stmt = stmt.where(*where)
    if by:  # NULL first on every engine (PostgreSQL and ClickHouse would put it last)
        stmt = stmt.group_by(key).order_by(key.asc().nulls_first())
    rows = reader.rows(stmt)
    # one int64 block straight from the rows: building and slicing a mixed frame cost more than the query
    first = 1 if by else 0
    values = np.array([[int(v or 0) for v in r[first:]] for r in rows], dtype=np.int64).reshape(len(rows), len(FIGURE_COLUMNS))
    sums = pd.DataFrame(values, columns=list(FIGURE_COLUMNS))
    if by:
        sums.insert(0, "key", pd.Series([r[0] for r in rows], dtype=None if rows else object))  # dtype inferred as before
    return sums


def moment_sums(session: Session, f: MetricFilter = MetricFilter(), source: str = "auto") -> pd.DataFrame:
    """Per graded moment (``moment_id``): n, sum, sum of squares, >= 7 and >= 9 of its grades.

    ``f.journey_id``/``f.moment_id`` select the graded moments.
    """
    daily = _resolve_source(session, source, f) == "daily"
    reader = reader_of(session) if daily else raw_reader(session)
    if daily:
        d = ScoreDailyCount
        stmt = select(
            d.moment_id.label("moment_id"),
            func.sum(d.n).label("grade_n"), func.sum(d.value * d.n).label("grade_sum"),
            func.sum(d.value * d.value * d.n).label("grade_sq"),
            _sum_if(d.value >= 7, d.n).label("grade_7"), _sum_if(d.value >= 9, d.n).label("grade_9"),
        ).where(d.measure == "moment", *_span_where(f)).group_by(d.moment_id)
    else:
        mg = aliased(Moment, name="mg")
        rc = aliased(Case, name="rc")
        cu = aliased(Customer, name="cu")
        value = Answer.value_num
        stmt = (
            select(mg.id.label("moment_id"), func.count(value).label("grade_n"),
                   func.sum(value).label("grade_sum"), func.sum(value * value).label("grade_sq"),
                   _sum_if(value >= 7).label("grade_7"), _sum_if(value >= 9).label("grade_9"))
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .outerjoin(rc, rc.id == Response.case_id)
            .join(mg, moment_match(mg, rc))
            .outerjoin(cu, cu.id == Response.customer_id)
            .where(value.is_not(None),
                   *_raw_where(MetricFilter(**{**f.__dict__, "journey_id": None}), mg.journey_id, cu.segment,
                               moment_col=mg.id))
            .group_by(mg.id)
        )
        if f.journey_id is not None:
            stmt = stmt.where(mg.journey_id == f.journey_id)
    rows = reader.rows(stmt)
    index = pd.Index([int(r[0]) for r in rows], name="moment_id", dtype="int64")
    values = np.array([[float(v or 0) for v in r[1:]] for r in rows], dtype=float).reshape(len(rows), len(MOMENT_COLUMNS))
    return pd.DataFrame(values, index=index, columns=list(MOMENT_COLUMNS))


def single_moment_sums(session: Session, f: MetricFilter = MetricFilter()) -> pd.DataFrame:
    """The ``FIGURE_COLUMNS`` sums per moment (``key``) of the responses sent for a moment that grade no moment
    in their answers: a one-moment survey, whose overall scores are about that moment. A response that grades
    moments (a journey survey) is about its journey: its overall scores count there, its moment grades per
    moment (``moment_sums``). Read from ``responses`` (the aggregate does not tell the two kinds apart)."""
    rm, rc, journey = response_journey()
    cu = aliased(Customer, name="cu")
    grades_moments = exists().where(Answer.response_id == Response.id, Answer.value_num.is_not(None),
                                    Answer.question_key.startswith(MOMENT_KEY_PREFIX, autoescape=True))
    stmt = (response_base(select(Response.moment_id.label("key"), *_raw_sums()), rm, rc, cu)
            .where(Response.moment_id.is_not(None), ~grades_moments, *_raw_where(f, journey, cu.segment))
            .group_by(Response.moment_id))
    rows = raw_reader(session).rows(stmt)
    values = np.array([[int(v or 0) for v in r[1:]] for r in rows], dtype=np.int64).reshape(len(rows), len(FIGURE_COLUMNS))
    return pd.DataFrame(values, columns=list(FIGURE_COLUMNS), index=pd.Index([int(r[0]) for r in rows], name="key"))


def graded_counts(session: Session, f: MetricFilter = MetricFilter(), source: str = "auto") -> dict[int, int]:
    """Submitted answers grading each moment (by moment id): a journey-end answer that grades several
    moments counts for each of them (the same count as the moment pages' ``n``)."""
    sums = moment_sums(session, f, source=source)
    return {int(k): int(v) for k, v in sums["grade_n"].items()}


def score_distribution(session: Session, measure: str, f: MetricFilter = MetricFilter(),
                       source: str = "auto") -> dict[int, int]:
    """How many answers gave each value of a headline measure (nps, grade, ces, csat)."""
    if measure not in ("nps", "grade", "ces", "csat"):
        raise ValueError(f"measure must be nps, grade, ces or csat, got {measure!r}")
    daily = _resolve_source(session, source, f) == "daily"
    reader = reader_of(session) if daily else raw_reader(session)
    if daily:
        d = ScoreDailyCount
        stmt = (select(d.value, func.sum(d.n)).where(d.measure == measure, *_span_where(f))
                .group_by(d.value))
    else:
        column = getattr(Response, measure)
        stmt, where = _lean_base(select(column, func.count()), f)
        stmt = stmt.where(column.is_not(None), *where).group_by(column)
    return {int(v): int(n) for v, n in reader.rows(stmt)}


# -- row-level frames (drivers, PRCA, drill-down) -----------------------------------

def moment_grade_frame(session: Session, f: MetricFilter) -> pd.DataFrame:
    """One row per response (index ``response_id``): ``case_id``, ``nps``, ``grade`` and one column per moment key.

    Fetched long (response, moment key, grade) and pivoted in pandas.
    """
    mg = aliased(Moment, name="mg")
    rc = aliased(Case, name="rc")
    cu = aliased(Customer, name="cu")
    stmt = (
        select(Response.id, mg.key, Answer.value_num)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .outerjoin(rc, rc.id == Response.case_id)
        .join(mg, moment_match(mg, rc))
        .outerjoin(cu, cu.id == Response.customer_id)
        .where(Answer.value_num.is_not(None),
               *_raw_where(MetricFilter(**{**f.__dict__, "journey_id": None, "moment_id": None}),
                           mg.journey_id, cu.segment))
    )
    if f.journey_id is not None:
        stmt = stmt.where(mg.journey_id == f.journey_id)
    long = pd.DataFrame(raw_reader(session).rows(stmt), columns=["response_id", "moment", "value"])
    wide = long.pivot_table(index="response_id", columns="moment", values="value", aggfunc="first")
    wide.columns.name = None
    heads = response_frame(session, wide.index.to_list()) if len(wide) else pd.DataFrame(
        columns=["case_id", "nps", "grade"], index=pd.Index([], name="response_id"))
    return heads.join(wide, how="inner")


def recent_complete_grades(session: Session, f: MetricFilter, keys: list[str], outcome: str, limit: int,
                           page: int | None = None) -> pd.DataFrame:
    """The ``limit`` most recent responses of the window (by ``submitted_at``) that have ``outcome`` and a grade
    for every moment in ``keys``, newest first: index ``response_id``, columns ``outcome`` and the keys.

    Reads the journey's responses newest first in keyset pages (``ORDER BY
    submitted_at DESC, id DESC LIMIT page`` on the submitted_at index), their
    grades pivoted in SQL (one ``MAX(CASE ...)`` per key, as in
    :func:`moment_grade_frame` but without the long rows), until ``limit``
    complete ones are found or the window is exhausted: the work is bounded
    by ``limit``, not by the window.
    """
    head = getattr(Response, outcome)
    base, where = _lean_base(select(Response.id, Response.submitted_at, head), replace(f, moment_id=None))
    base = base.where(head.is_not(None), *where).order_by(Response.submitted_at.desc(), Response.id.desc())
    mg = aliased(Moment, name="mg")
    pc = aliased(Case, name="pc")  # the case of the graded response, for the moment match
    # the grades of a page's responses, one column per key; only responses graded on every key
    grades = [func.max(case((mg.key == k, Answer.value_num))) for k in keys]
    pivot = (
        select(Answer.response_id, *grades)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .outerjoin(pc, pc.id == Response.case_id)
        .join(mg, moment_match(mg, pc))
        .where(Answer.value_num.is_not(None), mg.key.in_(keys),
               *([] if f.journey_id is None else [mg.journey_id == f.journey_id]))
        .group_by(Answer.response_id)
        .having(and_(*[g.is_not(None) for g in grades]))
    )
    page = page or limit
    reader = raw_reader(session)
    found: list[tuple] = []
    cursor = None
    while len(found) < limit:
        stmt = base if cursor is None else base.where(or_(Response.submitted_at < cursor[0], and_(
            Response.submitted_at == cursor[0], Response.id < cursor[1])))
        rows = reader.rows(stmt.limit(page))
        if not rows:
            break
        cursor = (rows[-1][1], rows[-1][0])  # (submitted_at, id) of the oldest read: the next page starts there
        heads = {r[0]: r[2] for r in rows}  # id -> outcome, newest first
        graded: dict[int, tuple] = {}
        ids = list(heads)
        for start in range(0, len(ids), 10_000):  # bounded IN lists (SQLite's variable limit, plan size)
            for r in reader.rows(pivot.where(Answer.response_id.in_(ids[start:start + 10_000]))):
                graded[r[0]] = tuple(r[1:])
        found += [(i, heads[i], *graded[i]) for i in ids if i in graded]
        if len(rows) < page:
            break
    frame = pd.DataFrame(found[:limit], columns=["response_id", outcome, *keys])
    return frame.astype({outcome: float, **{k: float for k in keys}}).set_index("response_id")


def response_frame(session: Session, response_ids: list[int]) -> pd.DataFrame:
    """``case_id``, ``nps``, ``grade`` by response id (in chunks: long IN lists are slow or refused)."""
    parts = []
    reader = raw_reader(session)
    for start in range(0, len(response_ids), 5000):
        chunk = response_ids[start:start + 5000]
        parts.append(pd.DataFrame(reader.rows(
            select(Response.id, Response.case_id, Response.nps, Response.grade).where(Response.id.in_(chunk))
        ), columns=["response_id", "case_id", "nps", "grade"]))
    frame = pd.concat(parts) if parts else pd.DataFrame(columns=["response_id", "case_id", "nps", "grade"])
    return frame.set_index("response_id")


def response_outcomes(session: Session, f: MetricFilter) -> pd.DataFrame:
    """``case_id``, ``nps``, ``grade``, ``ces`` of the responses in scope that belong to a case."""
    stmt, where = _lean_base(select(Response.id, Response.case_id, Response.nps, Response.grade, Response.ces), f)
    stmt = stmt.where(Response.case_id.is_not(None), *where)
    frame = pd.DataFrame(raw_reader(session).rows(stmt), columns=["response_id", "case_id", "nps", "grade", "ces"])
    return frame.set_index("response_id")


# Case-level drivers: the effort the customer went through, from the case record.
CASE_DRIVERS = (
    "broken_promise", "dark_period_over_2_days", "repeat_contact", "handoff", "reopened",
    "after_hours_contact", "channel_switch", "proactive_update", "first_time_right",
)
DARK_PERIOD_HOURS = 48.0
PROACTIVE_PATTERN = re.compile(r"proactive|proactief", re.IGNORECASE)


def case_driver_frame(session: Session, case_ids: list[int]) -> pd.DataFrame:
    """0/1 effort drivers per case (index case id, columns ``CASE_DRIVERS``).

    The facts come from the stored ``case_facts`` table (kept up to date by the
    cases domain on ingest and filled by the demo loader), so the drivers agree
    with the dashboard's case pages. Cases without a stored row (e.g. a
    database filled before the table existed) fall back to computing the facts
    on the fly with the event-log kernel from ``case_events``. Broken promises
    come from ``promises``, proactive updates from the event activities.
    Cases without events are left out.
    """
    ids = sorted({int(c) for c in case_ids})
    columns = ["case_id", "dark_period_hours", "repeat_contacts", "front_to_back", "reopenings",
               "after_hours_contacts", "channel_switches", "first_time_right"]
    stored_parts = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        stored_parts.append(pd.DataFrame(session.execute(
            select(CaseFacts.case_id, CaseFacts.dark_period_hours, CaseFacts.repeat_contacts,
                   CaseFacts.front_to_back, CaseFacts.reopenings, CaseFacts.after_hours_contacts,
                   CaseFacts.channel_switches, CaseFacts.first_time_right)
            .where(CaseFacts.case_id.in_(chunk))
        ).all(), columns=columns))
    stored = pd.concat(stored_parts, ignore_index=True) if stored_parts else pd.DataFrame(columns=columns)
    stored = stored.set_index("case_id")
    stored.index = stored.index.astype("int64")
    missing = sorted(set(ids) - set(stored.index.tolist()))
    parts = [f for f in (stored, _facts_on_the_fly(session, missing) if missing else None) if f is not None and len(f)]
    facts = pd.concat(parts) if parts else stored
    if facts.empty:
        return pd.DataFrame(columns=list(CASE_DRIVERS), index=pd.Index([], name="case_id"), dtype="int8")
    broken, proactive = _broken_and_proactive(session, facts.index.tolist())
    out = pd.DataFrame(index=facts.index)
    out["broken_promise"] = broken.reindex(facts.index).fillna(0).to_numpy() > 0
    out["dark_period_over_2_days"] = facts["dark_period_hours"].astype(float) > DARK_PERIOD_HOURS
    out["repeat_contact"] = facts["repeat_contacts"].astype(float) > 0
    out["handoff"] = facts["front_to_back"].astype(float) > 0  # handed from the front to the back office
    out["reopened"] = facts["reopenings"].astype(float) > 0
    out["after_hours_contact"] = facts["after_hours_contacts"].astype(float) > 0
    out["channel_switch"] = facts["channel_switches"].astype(float) > 0
    out["proactive_update"] = out.index.isin(proactive)
    out["first_time_right"] = facts["first_time_right"].astype(bool)
    out.index.name = "case_id"
    return out.astype("int8")[list(CASE_DRIVERS)].sort_index()


def _facts_on_the_fly(session: Session, ids: list[int]) -> pd.DataFrame:
    """The kernel's facts of these cases from their stored events (for cases without a ``case_facts`` row),
    read as the cases domain stores facts (`servicepulse.cases.load_events`), so both agree."""
    events = load_events(session, ids)
    if events.empty:
        return pd.DataFrame()
    facts = case_facts(events)
    facts.index = facts.index.astype("int64")
    return facts


def _broken_and_proactive(session: Session, ids: list[int]) -> tuple[pd.Series, set[int]]:
    """Broken promises per case, and the cases with a proactive update among their events."""
    activities = [a for a in session.scalars(select(CaseEvent.activity).distinct()) if a and PROACTIVE_PATTERN.search(a)]
    broken_parts, proactive = [], set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        broken_parts.append(pd.DataFrame(session.execute(
            select(Promise.case_id, func.count()).where(Promise.case_id.in_(chunk), Promise.status == "broken")
            .group_by(Promise.case_id)
        ).all(), columns=["case_id", "broken"]))
        if activities:
            proactive.update(session.scalars(select(CaseEvent.case_id).distinct()
                                             .where(CaseEvent.case_id.in_(chunk), CaseEvent.activity.in_(activities))))
    broken = pd.concat(broken_parts).set_index("case_id")["broken"] if broken_parts else pd.Series(dtype=int)
    return broken, {int(c) for c in proactive}


# -- drill-down ------------------------------------------------------------------

def list_responses(session: Session, f: MetricFilter, *, graded_moment_id: int | None = None,
                   limit: int = 50, offset: int = 0,
                   team_ids: frozenset[int] | None = None) -> tuple[int, list[dict]]:
    """(total, one page of responses) behind a figure, newest first, comments redacted.

    With ``graded_moment_id`` the responses that graded that moment, with the grade. ``team_ids`` (an Actor's
    visible teams, None = all) keeps the individual answers to those teams: the figures above them are aggregates,
    the answers are the teams' own work.
    """
    rm, rc, journey = response_journey()
    cu = aliased(Customer, name="cu")
    columns = [Response.id, Response.submitted_at, Response.channel, Response.nps, Response.grade, Response.ces,
               Response.csat, Response.comment, Response.language, cu.segment, OrgUnit.name.label("team")]
    if graded_moment_id is not None:
        mg = aliased(Moment, name="mg")
        base = (select(*columns, Answer.value_num.label("moment_grade"))
                .select_from(Response)
                .outerjoin(rm, rm.id == Response.moment_id)
                .outerjoin(rc, rc.id == Response.case_id)
                .outerjoin(cu, cu.id == Response.customer_id)
                .join(Answer, Answer.response_id == Response.id)
                .join(mg, and_(moment_match(mg, rc), mg.id == graded_moment_id))
                .where(Answer.value_num.is_not(None)))
        where = _raw_where(MetricFilter(**{**f.__dict__, "journey_id": None, "moment_id": None}), journey, cu.segment)
    else:
        base = response_base(select(*columns, null().label("moment_grade")), rm, rc, cu)
        where = _raw_where(f, journey, cu.segment)
    base = base.outerjoin(OrgUnit, OrgUnit.id == Response.team_id).where(*where)
    if team_ids is not None:
        base = base.where(Response.team_id.in_(sorted(team_ids) or [-1]))
    reader = raw_reader(session)
    total = reader.scalar(select(func.count()).select_from(base.subquery())) or 0
    names = [c.key for c in columns] + ["moment_grade"]
    rows = [dict(zip(names, r)) for r in reader.rows(base.order_by(Response.submitted_at.desc(), Response.id.desc())
                                                     .limit(limit).offset(offset))]
    # Privacy first: comments are shown (and downloaded) redacted, like everywhere else a comment is shown.
    patterns = VerbatimSettings().customer_patterns
    return int(total), [{**r, "comment": redact(r["comment"], patterns).text if r["comment"] else r["comment"]}
                        for r in rows]


# -- names ------------------------------------------------------------------------

def journeys(session: Session) -> list[Journey]:
    return list(session.scalars(select(Journey).order_by(Journey.id)))


def moments(session: Session, journey_id: int | None = None) -> list[Moment]:
    stmt = select(Moment).order_by(Moment.journey_id, Moment.position, Moment.id)
    if journey_id is not None:
        stmt = stmt.where(Moment.journey_id == journey_id)
    return list(session.scalars(stmt))


def team_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())


def filter_choices(session: Session) -> dict[str, list]:
    """What the analytics pages' filters offer: journeys and teams (id, name), and the channels, languages and
    customer segments the responses have (distinct values, each an index lookup on a small set)."""
    teams = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(select(Response.team_id).distinct()))
    return {
        "journeys": [(j.id, j) for j in journeys(session)],
        "teams": list(session.execute(teams.order_by(OrgUnit.name)).all()),
        "channels": list(session.scalars(select(Response.channel).where(Response.channel.is_not(None))
                                         .distinct().order_by(Response.channel))),
        "segments": list(session.scalars(select(Customer.segment).where(Customer.segment.is_not(None))
                                         .distinct().order_by(Customer.segment))),
        "languages": list(session.scalars(select(Response.language).where(Response.language.is_not(None))
                                          .distinct().order_by(Response.language))),
    }


__all__ = [
    "CASE_DRIVERS", "DIMENSIONS", "FIGURE_COLUMNS", "MetricFilter", "PERIODS", "case_driver_frame", "first_response_day",
    "has_daily_counts", "last_response_day", "list_responses", "metric_sums", "moment_grade_frame", "moment_sums",
    "next_month", "period_bucket", "response_outcomes", "score_distribution",
]
