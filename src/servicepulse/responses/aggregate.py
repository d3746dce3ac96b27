"""The daily score aggregate (``score_daily_counts``): rebuilt per day range, kept current on ingest, folded
hourly. Responses owns the table; the metric queries (servicepulse.metrics) only read it.

Every ingest adds delta rows (:func:`add_to_daily_counts`); they give exact
figures but pile up, and each one is another row every dashboard query sums.
:func:`keep_daily_counts` (the hourly job in ``responses.jobs``) builds the
aggregate the first time there are responses, and afterwards rebuilds only the
days that hold delta rows or that lie past the last aggregated day (responses
written by a bulk path that adds no deltas), so a run costs a few days'
rebuild, not the whole history.

The dimensions of a response (its journey, its graded moments) are defined
here once and read by the metric queries' raw path too, so the aggregate and
the raw tables give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from servicepulse.models import Answer, Case, Customer, Moment, Response, ScoreDailyCount
from servicepulse.models.responses import GRAIN_DAY, GRAIN_DETAIL, GRAIN_MONTH

MOMENT_KEY_PREFIX = "moment_"
DETAIL_COLUMNS = ["day", "measure", "moment_id", "journey_id", "channel", "team_id", "segment", "value", "n"]


# -- the dimensions of a response (shared with the metric queries) ----------------------

def utc_day(expr: ColumnElement, dialect: str) -> ColumnElement:
    """The UTC calendar day of a timestamp column, as a DATE."""
    if dialect == "sqlite":
        return func.date(expr)
    return cast(expr.op("AT TIME ZONE")(literal("UTC")), Date)


def month_start(expr: ColumnElement, dialect: str) -> ColumnElement:
    """The first day of the month of a DATE column, as a DATE."""
    if dialect == "sqlite":
        return func.date(expr, "start of month")
    return cast(func.date_trunc("month", cast(expr, DateTime(timezone=False))), Date)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def response_journey():
    """Journey of a response: its moment's journey, else its case's (aliases rm, rc and the expression)."""
    rm = aliased(Moment, name="rm")
    rc = aliased(Case, name="rc")
    return rm, rc, func.coalesce(rm.journey_id, rc.journey_id)


def response_base(stmt, rm, rc, cu):
    """``stmt`` over responses joined to their moment, case and customer (for journey and segment)."""
    return (stmt.select_from(Response)
            .outerjoin(rm, rm.id == Response.moment_id)
            .outerjoin(rc, rc.id == Response.case_id)
            .outerjoin(cu, cu.id == Response.customer_id))


def moment_match(mg, rc):
    """Answer key 'moment_<key>' of the moment ``mg``, within the response's case journey if it has one."""
    return and_(Answer.question_key == literal(MOMENT_KEY_PREFIX) + mg.key,
                or_(rc.journey_id.is_(None), rc.journey_id == mg.journey_id))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _submitted_within(day_from: date | None, day_to: date | None) -> list:
    where = []
    if day_from is not None:
        where.append(Response.submitted_at >= day_start(day_from))
    if day_to is not None:
        where.append(Response.submitted_at < day_start(day_to))
    return where


def _rows_within(grain: int | None, day_from: date | None, day_to: date | None) -> list:
    d = ScoreDailyCount
    where = [] if grain is None else [d.grain == grain]
    if day_from is not None:
        where.append(d.day >= day_from)
    if day_to is not None:
        where.append(d.day < day_to)
    return where


# -- writing the aggregate -------------------------------------------------------------

def _detail_selects(dialect: str, day_from: date | None = None, day_to: date | None = None,
                    response_ids=None) -> list:
    """The SELECTs that produce the detail rows (``DETAIL_COLUMNS``) of ``score_daily_counts``: one per
    headline measure and one for the moment grades; ``response_ids`` (ids or an expanding bind parameter)
    limits them to those responses."""
    rm, rc, journey = response_journey()
    cu = aliased(Customer, name="cu")
    day = utc_day(Response.submitted_at, dialect)
    # only submitted responses count: a saved, unsubmitted survey page is not a response yet
    where = [*_submitted_within(day_from, day_to), Response.completed.is_(True)]
    if response_ids is not None:
        where.append(Response.id.in_(response_ids))
    statements = []
    headline = [("responses", literal(0, Integer)), ("nps", Response.nps), ("grade", Response.grade),
                ("ces", Response.ces), ("csat", Response.csat)]
    for measure, value in headline:
        dims = [day, literal(measure), Response.moment_id, journey, Response.channel, Response.team_id, cu.segment]
        stmt = response_base(select(*dims, value, func.count()), rm, rc, cu).where(*where)
        if measure != "responses":
            stmt = stmt.where(value.is_not(None))
        statements.append(stmt.group_by(*[c for c in dims if c is not dims[1]],
                                         *([] if measure == "responses" else [value])))
    mg = aliased(Moment, name="mg")
    grade = cast(func.round(Answer.value_num), Integer)
    dims = [day, literal("moment"), mg.id, mg.journey_id, Response.channel, Response.team_id, cu.segment]
    statements.append(
        select(*dims, grade, func.count())
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .outerjoin(rc, rc.id == Response.case_id)
        .join(mg, moment_match(mg, rc))
        .outerjoin(cu, cu.id == Response.customer_id)
        .where(Answer.value_num.is_not(None), *where)
        .group_by(day, mg.id, mg.journey_id, Response.channel, Response.team_id, cu.segment, grade)
    )
    return statements


def refresh_daily_counts(session: Session, day_from: date | None = None, day_to: date | None = None) -> int:
    """Rebuild ``score_daily_counts`` for the UTC days ``day_from`` <= day < ``day_to`` (None: open end).

    A full rebuild (e.g. nightly, or after a bulk load); between rebuilds the
    ingest paths keep the aggregate current with :func:`add_to_daily_counts`.
    Runs as ``DELETE`` + ``INSERT ... SELECT ... GROUP BY`` in the database;
    returns the number of aggregate rows written (for the window).
    """
    dialect = _dialect(session)
    d = ScoreDailyCount
    if dialect == "postgresql":
        # Ingests that add delta rows meanwhile would be counted twice (their response read by the INSERT ...
        # SELECT, their delta row kept): wait for those in flight and hold new ones until this commits.
        # SQLite needs nothing: its write transactions already run one at a time.
        session.execute(text("LOCK TABLE score_daily_counts IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(delete(d).where(*_rows_within(GRAIN_DETAIL, day_from, day_to)))
    for stmt in _detail_selects(dialect, day_from, day_to):
        session.execute(insert(d).from_select(DETAIL_COLUMNS, stmt))
    _roll_up(session, day_from, day_to, dialect)
    return int(session.scalar(select(func.count()).select_from(d).where(*_rows_within(None, day_from, day_to))) or 0)


_ANY_DAILY_COUNT = select(ScoreDailyCount.__table__.c.id).limit(1)  # built once: checked on every ingest


@lru_cache(maxsize=4)
def _delta_insert(dialect: str):
    """One ``INSERT ... SELECT`` of the delta rows of the responses bound as ``ids`` (``sign`` bound too): the
    detail rows of ``_detail_selects`` and their day and month roll-ups, built once per dialect, so an ingest
    pays one round trip and no statement building or Python work per row."""
    detail = union_all(*_detail_selects(dialect, response_ids=bindparam("ids", expanding=True))).cte("delta")
    day, measure, moment_id, journey_id, channel, team_id, segment, value, n = list(detail.c)
    sign = bindparam("sign", type_=Integer)
    keys = [measure, moment_id, journey_id, value]
    month = month_start(day, dialect)
    blank = [null(), null(), null()]  # roll-ups have no channel, team or segment
    rows = union_all(
        select(literal(GRAIN_DETAIL), day, measure, moment_id, journey_id, channel, team_id, segment, value, n * sign),
        select(literal(GRAIN_DAY), day, measure, moment_id, journey_id, *blank, value, func.sum(n) * sign)
        .group_by(day, *keys),
        select(literal(GRAIN_MONTH), month, measure, moment_id, journey_id, *blank, value, func.sum(n) * sign)
        .group_by(month, *keys),
    )
    return (insert(ScoreDailyCount.__table__).from_select(["grain", *DETAIL_COLUMNS], rows)
            .execution_options(preserve_rowcount=True))


def add_to_daily_counts(session: Session, response_ids: list[int], sign: int = 1) -> int:
    """Keep ``score_daily_counts`` current on ingest: add (``sign`` 1) or take back (-1) these responses.

    Writes delta rows (``n`` = +-count) at every grain; the queries sum ``n``,
    so a delta row next to the rebuilt ones gives the exact figures without
    touching the big rows (the periodic fold job, ``responses.jobs``, or any
    :func:`refresh_daily_counts` of the day, folds them in). Call with
    -1 *before* changing a stored response and with 1 after. Does nothing
    while the aggregate has never been built (queries then read the raw
    tables). Returns the number of rows written.

    Runs on every API write group: one cached ``INSERT ... SELECT`` in the
    database (no rows travel to Python).
    """
    ids = sorted({int(i) for i in response_ids})
    if not ids or sign not in (1, -1):
        return 0
    if session.connection().scalar(_ANY_DAILY_COUNT) is None:
        return 0
    conn = session.connection()
    written = conn.execute(_delta_insert(_dialect(session)), {"ids": ids, "sign": sign}).rowcount
    if written < 0 and conn.dialect.name == "sqlite":  # sqlite3 reports none for a statement that starts WITH
        written = conn.exec_driver_sql("SELECT changes()").scalar()
    return int(written)


def _roll_up(session: Session, day_from: date | None, day_to: date | None, dialect: str) -> None:
    """Rebuild the day and month roll-ups (grain 1 and 2) from the detail rows for the window."""
    d = ScoreDailyCount
    columns = ["grain", "day", "measure", "moment_id", "journey_id", "value", "n"]
    session.execute(delete(d).where(*_rows_within(GRAIN_DAY, day_from, day_to)))
    dims = [d.day, d.measure, d.moment_id, d.journey_id, d.value]
    session.execute(insert(d).from_select(columns, select(
        literal(GRAIN_DAY), *dims, func.sum(d.n)).where(*_rows_within(GRAIN_DETAIL, day_from, day_to)).group_by(*dims)))
    # whole months: from the first of the first month to the first of the month after the last day
    month_from = day_from.replace(day=1) if day_from else None
    month_to = None if day_to is None else (day_to if day_to.day == 1 else next_month(day_to))
    session.execute(delete(d).where(*_rows_within(GRAIN_MONTH, month_from, month_to)))
    month = month_start(d.day, dialect)
    dims = [month, d.measure, d.moment_id, d.journey_id, d.value]
    session.execute(insert(d).from_select(columns, select(
        literal(GRAIN_MONTH), *dims, func.sum(d.n)).where(*_rows_within(GRAIN_DETAIL, month_from, month_to))
        .group_by(*dims)))


# -- reading its state (for the upkeep, and the metric queries' "is it current" check) ------------

def days_with_deltas(session: Session) -> list[date]:
    """The UTC days whose aggregate rows hold delta rows next to the rebuilt ones, oldest first.

    A rebuild leaves one day roll-up row per (day, measure, moment, journey,
    value) and one month roll-up row per month and the same key; every
    :func:`add_to_daily_counts` adds one more row per key it touches. So a
    key that occurs twice marks a month (cheap scan of the month roll-up)
    and then a day (day roll-up of those months only) that needs folding.
    """
    d = ScoreDailyCount
    key = [d.day, d.measure, d.moment_id, d.journey_id, d.value]

    def doubled_days(where: list) -> set[date]:
        doubled = select(d.day).where(*where).group_by(*key).having(func.count() > 1).subquery()
        return {v if isinstance(v, date) else date.fromisoformat(str(v)[:10])
                for v in session.scalars(select(doubled.c.day).distinct())}

    days: set[date] = set()
    for month in sorted(doubled_days([d.grain == GRAIN_MONTH])):
        days |= doubled_days([d.grain == GRAIN_DAY, d.day >= month, d.day < next_month(month)])
    return sorted(days)


def last_aggregated_day(session: Session) -> date | None:
    """The latest UTC day with detail rows in ``score_daily_counts`` (None: never built)."""
    last_day = session.scalar(select(func.max(ScoreDailyCount.day)).where(ScoreDailyCount.grain == GRAIN_DETAIL))
    if isinstance(last_day, str):  # SQLite hands DATE back as text in aggregate results
        last_day = date.fromisoformat(last_day)
    return last_day


def first_response_day(session: Session) -> date | None:
    value = session.scalar(select(func.min(Response.submitted_at)))
    return value.date() if value else None


def last_response_day(session: Session) -> date | None:
    value = session.scalar(select(func.max(Response.submitted_at)))
    return value.date() if value else None


# -- upkeep ---------------------------------------------------------------------------------

@dataclass
class Upkeep:
    built: bool = False  # the whole aggregate was built (first run)
    days: list[date] = field(default_factory=list)  # days rebuilt (delta rows folded)
    rows: int = 0  # aggregate rows written


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as half-open ranges [first, last + 1 day)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


def keep_daily_counts(session: Session) -> Upkeep:
    """Build the aggregate if it does not exist yet, else fold the days with delta rows (in the caller's unit of
    work; never commits)."""
    last = last_aggregated_day(session)
    if last is None:
        if first_response_day(session) is None:
            return Upkeep()
        return Upkeep(built=True, rows=refresh_daily_counts(session))
    days = set(days_with_deltas(session))
    latest = last_response_day(session)
    if latest is not None and latest > last:
        days |= {last + timedelta(days=i) for i in range(1, (latest - last).days + 1)}
    result = Upkeep(days=sorted(days))
    for day_from, day_to in _runs(result.days):
        result.rows += refresh_daily_counts(session, day_from, day_to)
    return result
