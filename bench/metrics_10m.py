"""The metric queries behind the overview and the moment view at scale (prints figures; not a test).

Data: N responses "from the demo generator". `servicepulse.demo.generate` runs
once at its small size (stories, promises, the event-log kernel's case facts);
every synthetic respondent resamples one of its answering cases (journey, the
nine drivers, the moments reached, the last team, weekday and time of day) and
gets fresh scores from the demo's effect model (`effects.moment_grades`,
`moment_contribution`, `overall_scores` with the journey offsets), vectorised
in NumPy. Ids follow time, as in the product.

Load: a fresh database per run (a uniquely named PostgreSQL database, dropped
at the end; a SQLite file, deleted), migrated by the product's migrations, then
the project's bulk writer (`cases.bulkio.write_rows`: COPY on PostgreSQL,
executemany on SQLite) in one transaction, with the tables' non-unique indexes
(and PostgreSQL foreign keys) built once after the load. The aggregate
`score_daily_counts` is built by the product's own `refresh_daily_counts`.

Figures: the overview's headline month, its previous 31-day span, the monthly
trend and the journeys, and the moment view's per-moment sums, from the
aggregate; the same figures from DuckDB scanning the raw data (Parquet written
from the same frames) and from pandas: same numbers (asserted), p95 over
repeated runs and the ratios from one run. Then the full moment_view service
call (figures and the PRCA label check on the newest complete answers), for
the overview month and for the whole year: the first call, then repeated
calls that find the label check remembered. Each step prints its time and the
load average (the machine is shared: absolute times are depressed by load).

Run:
    python bench/metrics_10m.py --size 10000000 --backend both --runs 20
    python bench/metrics_10m.py --size 1000000 --backend sqlite --runs 20 --raw-check
PostgreSQL: --pg-url postgresql+psycopg://postgres@127.0.0.1/postgres (only used to create and drop the run's database).
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from servicepulse.db import bulkio, migrate
from servicepulse.db.engine import make_engine
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import effects
from servicepulse.demo.catalogue import JOURNEYS, SEGMENT_SHARES, TEAMS
from servicepulse.demo.generate import generate as demo_generate
from servicepulse.metrics import label_check, service
from servicepulse.metrics import repository as repo
from servicepulse.metrics.repository import MetricFilter
from servicepulse.models import (
    Answer,
    Customer,
    Journey,
    Moment,
    OrgUnit,
    Response,
    Survey,
    SurveyVersion,
)
from servicepulse.responses import refresh_daily_counts

START = datetime(2025, 11, 1, tzinfo=UTC)  # the demo window (stories.WINDOW_START, 365 days)
DAYS = 365
OVERVIEW_MONTH = MetricFilter(date_from=date(2026, 10, 1), date_to=date(2026, 11, 1))
# the overview's previous equal span (service.overview): 31 days, so it reads the day roll-up
PREVIOUS_SPAN = MetricFilter(date_from=date(2026, 8, 31), date_to=date(2026, 10, 1))


@dataclass
class Synthetic:
    responses: pd.DataFrame  # id, customer_id, moment_id, team_id, channel, submitted_at, nps, grade, ces, csat
    answers: pd.DataFrame  # id, response_id, question_key, value_num
    customers: pd.DataFrame  # id, segment
    moments: pd.DataFrame  # id, journey_id, key


@dataclass
class CaseMix:
    """The answering cases of one run of the demo generator: what each respondent went through."""

    journey: np.ndarray  # index into JOURNEYS
    drivers: np.ndarray  # n x len(effects.DRIVERS), 0/1 (int8)
    seen: np.ndarray  # n x max moments per journey: the moment at that position was reached (graded)
    team: np.ndarray  # key of the case's last team (None: no team)
    day: np.ndarray  # day of the answer within the demo window (0..364)
    second: np.ndarray  # second of that day (UTC)


def case_mix(seed: int, size: str = "small") -> CaseMix:
    """Run `servicepulse.demo.generate` (stories, the event-log kernel's case facts, promises) and keep per
    response its journey, drivers, moments reached, team and time: the joint distribution the scale-up resamples."""
    demo = demo_generate(size, seed)
    r = demo.responses
    position = {(j.key, m.key): i for j in JOURNEYS for i, m in enumerate(j.moments)}
    seen = np.zeros((len(r), max(len(j.moments) for j in JOURNEYS)), dtype=bool)
    g = demo.moment_grades
    seen[g["response"].to_numpy(), [position[k] for k in zip(g["journey"], g["moment"])]] = True
    since = (pd.DatetimeIndex(r["submitted_at"]) - pd.Timestamp(START)).total_seconds().to_numpy().astype(np.int64)
    return CaseMix(journey=r["journey"].map({j.key: i for i, j in enumerate(JOURNEYS)}).to_numpy(),
                   drivers=demo.drivers.reindex(r["case"]).to_numpy(dtype=np.int8), seen=seen,
                   team=r["last_team"].to_numpy(dtype=object), day=since // 86400, second=since % 86400)


def generate(n: int, seed: int, moment_ids: dict[tuple[str, str], int], journey_ids: dict[str, int],
             team_ids: dict[str, int]) -> Synthetic:
    """n responses: respondents resampled from the demo's case mix, scores drawn anew by the demo's effect model
    (`effects.moment_grades`, `moment_contribution`, `overall_scores` with the journey offsets), so every response
    has its own noise. Answer times keep the sampled case's weekday and time of day, shifted by up to two weeks
    (wrapping within the year-long window) so that the days are not copies of the demo's 2.5k answers."""
    rng = np.random.default_rng(seed)
    mix = case_mix(seed)
    pick = rng.integers(0, len(mix.journey), n)
    day = (mix.day[pick] + 7 * rng.integers(-2, 3, n)) % DAYS
    seconds = day * 86400 + mix.second[pick]
    order = np.argsort(seconds, kind="stable")  # ids follow time, as in the product
    pick, seconds = pick[order], seconds[order]
    journey, drivers, seen = mix.journey[pick], mix.drivers[pick], mix.seen[pick]

    moment_term = np.zeros(n)
    resp_moment = np.zeros(n, dtype=np.int64)
    graded_rows, graded_keys, graded_values = [], [], []
    for ji, j in enumerate(JOURNEYS):
        rows = np.flatnonzero(journey == ji)
        resp_moment[rows] = moment_ids[(j.key, j.moments[-1].key)]  # the journey survey's moment (demo loader)
        for pos, m in enumerate(j.moments):
            g = effects.moment_grades(drivers[rows], m.kind, m.base, m.key, rng)
            met = seen[rows, pos]
            moment_term[rows] += effects.moment_contribution(np.where(met, g, np.nan), m.kind)
            graded_rows.append(rows[met])
            graded_keys.append(np.full(int(met.sum()), moment_ids[(j.key, m.key)], dtype=np.int16))
            graded_values.append(g[met])
    journey_keys = np.array([j.key for j in JOURNEYS], dtype=object)[journey]
    scores = effects.overall_scores(drivers, moment_term, rng, journeys=journey_keys)
    del moment_term, drivers, seen

    n_customers = max(1000, n // 20)
    customers = pd.DataFrame({"id": np.arange(1, n_customers + 1),
                              "segment": rng.choice(list(SEGMENT_SHARES), n_customers, p=list(SEGMENT_SHARES.values()))})
    team = pd.Series(mix.team[pick]).map(team_ids).astype("Int64")
    responses = pd.DataFrame({
        "id": np.arange(1, n + 1), "customer_id": rng.integers(1, n_customers + 1, n), "moment_id": resp_moment,
        "team_id": team, "channel": np.where(rng.random(n) < 0.75, "email", "sms"),
        "submitted_at": pd.to_datetime(START) + pd.to_timedelta(seconds, unit="s"),
        "nps": scores.nps, "grade": scores.grade, "ces": scores.ces,
        # the demo survey asks no CSAT; derived from the grade so that the CSAT figures have data
        "csat": np.clip(np.rint((scores.grade + 1) / 2.2), 1, 5).astype(np.int16),
    })
    # answers in (response, moment) order, as they arrive
    response_id = np.concatenate(graded_rows) + 1
    moment_id = np.concatenate(graded_keys)
    order = np.lexsort((moment_id, response_id))
    moments = pd.DataFrame([{"id": mid, "journey_id": journey_ids[jk], "key": mk} for (jk, mk), mid in moment_ids.items()])
    key_of = pd.Series("moment_" + moments["key"].to_numpy(dtype=object), index=moments["id"])
    answers = pd.DataFrame({"id": np.arange(1, len(order) + 1), "response_id": response_id[order],
                            "question_key": pd.Categorical.from_codes(
                                pd.Index(key_of.index).get_indexer(moment_id[order]), categories=key_of.to_numpy()),
                            "value_num": np.concatenate(graded_values)[order].astype(float)})
    return Synthetic(responses, answers, customers, moments)


# -- database set-up and bulk load ---------------------------------------------------

@contextmanager
def fresh_database(backend: str, pg_url: str, workdir: Path):
    """A new, empty database for this run (a uniquely named PostgreSQL database or a SQLite file), removed after."""
    if backend == "sqlite":
        path = workdir / f"bench_{uuid.uuid4().hex[:8]}.sqlite"
        engine = make_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")
        def _bulk_pragmas(dbapi_connection, _record):
            # a bigger page cache and in-memory sorts for the aggregate build over tens of millions of rows
            dbapi_connection.execute("PRAGMA cache_size=-1000000")
            dbapi_connection.execute("PRAGMA temp_store=MEMORY")
        try:
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    base = make_url(pg_url)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"sp_bench_metrics_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def catalogue(engine):
    with UnitOfWork(engine) as s:
        teams = [OrgUnit(key=t.key, name=t.name) for t in TEAMS]
        survey = Survey(key="bench", name="bench")
        s.add_all([*teams, survey])
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={})
        s.add(version)
        moment_ids, journey_ids = {}, {}
        for j in JOURNEYS:
            journey = Journey(key=j.key, name_nl=j.name_nl, name_en=j.name_en)
            s.add(journey)
            s.flush()
            journey_ids[j.key] = journey.id
            for pos, m in enumerate(j.moments, start=1):
                moment = Moment(journey_id=journey.id, key=m.key, position=pos, name_nl=m.name_nl, name_en=m.name_en,
                                kind=m.kind, norm=7.0 if m.kind == "functional" else 9.0)
                s.add(moment)
                s.flush()
                moment_ids[(j.key, m.key)] = moment.id
        s.flush()
        return moment_ids, journey_ids, {t.key: t.id for t in teams}, version.id


BULK_TABLES = (Customer.__table__, Response.__table__, Answer.__table__)


@contextmanager
def without_secondary_indexes(conn):
    """Bulk load into empty tables the usual way: drop their non-unique indexes (and, on PostgreSQL, their
    foreign keys) first, build them once afterwards from the same metadata; the foreign keys are validated
    when added back. SQLite cannot drop a foreign key: it is switched off for the load connection."""
    indexes = [i for t in BULK_TABLES for i in t.indexes]
    fks = [fk for t in BULK_TABLES for fk in t.foreign_key_constraints] if conn.dialect.name == "postgresql" else []
    for fk in fks:
        conn.execute(DropConstraint(fk))
    for index in indexes:
        conn.execute(DropIndex(index))
    yield
    for index in indexes:
        conn.execute(CreateIndex(index))
    for fk in fks:
        conn.execute(AddConstraint(fk))


def _columns(frame: pd.DataFrame, dialect: str) -> dict[str, np.ndarray]:
    out = {}
    for name, values in frame.items():
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[name] = bulkio.ts_text(values, dialect)
        elif isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
            out[name] = bulkio.plain(values)
        elif values.dtype == bool:
            out[name] = bulkio.booleans(values, dialect)
        elif values.hasnans:
            out[name] = bulkio.ints(values)
        else:
            out[name] = values.to_numpy()  # .tolist() per chunk in write_rows gives plain Python numbers
    return out


def load(engine, data: Synthetic, version_id: int, chunk: int = 1_000_000) -> None:
    """customers, responses and moment grades with the project's bulk writer (COPY / executemany), one transaction."""
    r = data.responses.assign(survey_version_id=version_id, completed=True)
    r["created_at"] = r["submitted_at"]
    cust = data.customers.assign(external_id=lambda d: "B" + d["id"].astype(str), language="nl", attributes="{}",
                                 created_at=pd.Timestamp(START))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # on the DBAPI connection, outside any transaction, or SQLite ignores it
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin(), without_secondary_indexes(conn):
            for table, frame in zip(BULK_TABLES, (cust, r, data.answers)):
                # in table order, the order the compiled INSERT lists them
                frame = frame[[c.name for c in table.columns if c.name in frame.columns]]
                for start in range(0, len(frame), chunk):
                    bulkio.write_rows(conn, table, _columns(frame.iloc[start:start + chunk], engine.dialect.name))
        if engine.dialect.name == "sqlite":
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        else:
            for table in BULK_TABLES:  # statistics for the planner before the aggregate build
                conn.exec_driver_sql(f"ANALYZE {table.name}")
            conn.commit()


def build_daily_counts(engine) -> int:
    """score_daily_counts through the product's own rebuild (`refresh_daily_counts`), one unit of work."""
    with UnitOfWork(engine) as s:
        if engine.dialect.name == "postgresql":
            s.execute(text("SET LOCAL work_mem = '256MB'"))  # hash aggregates in memory rather than spilling
        rows = refresh_daily_counts(s)
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE score_daily_counts")
            c.commit()
    return rows


# -- the figures, three ways -----------------------------------------------------------

def db_figures(engine, journey_id: int, source: str = "auto") -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        return {
            "overview_total": repo.metric_sums(s, OVERVIEW_MONTH, source=source),
            "overview_previous": repo.metric_sums(s, PREVIOUS_SPAN, source=source),
            "overview_trend": repo.metric_sums(s, by="period", period="month", source=source),
            "overview_journeys": repo.metric_sums(s, OVERVIEW_MONTH, by="journey", source=source),
            "moment_view": repo.moment_sums(s, MetricFilter(journey_id=journey_id, date_from=OVERVIEW_MONTH.date_from,
                                                             date_to=OVERVIEW_MONTH.date_to), source=source),
        }


SUMS_SQL = """
count(*) AS responses, count(nps) AS nps_n, sum(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS detractors,
sum(CASE WHEN nps BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives, sum(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS promoters,
count(grade) AS grade_n, sum(grade) AS grade_sum, sum(grade * grade) AS grade_sq,
sum(CASE WHEN grade >= 7 THEN 1 ELSE 0 END) AS grade_7, sum(CASE WHEN grade >= 9 THEN 1 ELSE 0 END) AS grade_9,
count(csat) AS csat_n, sum(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS csat_top2,
count(ces) AS ces_n, sum(ces) AS ces_sum, sum(ces * ces) AS ces_sq, sum(CASE WHEN ces >= 5 THEN 1 ELSE 0 END) AS ces_easy
"""


def _duck_span(f: MetricFilter) -> str:
    return (f"submitted_at >= TIMESTAMPTZ '{f.date_from} 00:00:00+00' "
            f"AND submitted_at < TIMESTAMPTZ '{f.date_to} 00:00:00+00'")


def duckdb_figures(con, journey_id: int) -> dict:
    month = _duck_span(OVERVIEW_MONTH)
    return {
        "overview_total": con.execute(f"SELECT {SUMS_SQL} FROM r WHERE {month}").df(),
        "overview_previous": con.execute(f"SELECT {SUMS_SQL} FROM r WHERE {_duck_span(PREVIOUS_SPAN)}").df(),
        "overview_trend": con.execute(
            f"SELECT strftime(date_trunc('month', submitted_at AT TIME ZONE 'UTC'), '%Y-%m-%d') AS key, {SUMS_SQL} "
            "FROM r GROUP BY 1 ORDER BY 1").df(),
        "overview_journeys": con.execute(
            f"SELECT m.journey_id AS key, {SUMS_SQL} FROM r JOIN m ON m.id = r.moment_id WHERE {month} "
            "GROUP BY 1 ORDER BY 1").df(),
        "moment_view": con.execute(
            "SELECT m.id AS moment_id, count(a.value_num) AS grade_n, sum(a.value_num) AS grade_sum, "
            "sum(a.value_num * a.value_num) AS grade_sq, sum(CASE WHEN a.value_num >= 7 THEN 1 ELSE 0 END) AS grade_7, "
            "sum(CASE WHEN a.value_num >= 9 THEN 1 ELSE 0 END) AS grade_9 FROM a JOIN r ON r.id = a.response_id "
            f"JOIN m ON a.question_key = 'moment_' || m.key WHERE m.journey_id = {journey_id} AND {month.replace('submitted_at', 'r.submitted_at')} "
            "GROUP BY 1 ORDER BY 1").df().set_index("moment_id"),
    }


def _pandas_sums(frame: pd.DataFrame) -> dict:
    nps, grade, ces, csat = frame["nps"], frame["grade"], frame["ces"], frame["csat"]
    return {"responses": len(frame), "nps_n": int(nps.notna().sum()), "detractors": int((nps <= 6).sum()),
            "passives": int(nps.between(7, 8).sum()), "promoters": int((nps >= 9).sum()),
            "grade_n": int(grade.notna().sum()), "grade_sum": int(grade.sum()), "grade_sq": int((grade.astype(np.int64) ** 2).sum()),
            "grade_7": int((grade >= 7).sum()), "grade_9": int((grade >= 9).sum()),
            "csat_n": int(csat.notna().sum()), "csat_top2": int((csat >= 4).sum()),
            "ces_n": int(ces.notna().sum()), "ces_sum": int(ces.sum()), "ces_sq": int((ces.astype(np.int64) ** 2).sum()),
            "ces_easy": int((ces >= 5).sum())}


def _pandas_span(r: pd.DataFrame, f: MetricFilter) -> pd.Series:
    return (r["submitted_at"] >= pd.Timestamp(f.date_from, tz="UTC")) & (r["submitted_at"] < pd.Timestamp(f.date_to, tz="UTC"))


def pandas_figures(data: Synthetic, journey_id: int) -> dict:
    r = data.responses
    in_month = _pandas_span(r, OVERVIEW_MONTH)
    month = r[in_month]
    journey_of = data.moments.set_index("id")["journey_id"]
    trend_key = r["submitted_at"].dt.tz_convert(None).dt.to_period("M")
    m_of_key = data.moments[data.moments["journey_id"] == journey_id].assign(question_key=lambda d: "moment_" + d["key"])
    a = data.answers.merge(m_of_key[["id", "question_key"]], on="question_key")
    a = a[in_month.to_numpy()[a["response_id"].to_numpy() - 1]]
    v = a["value_num"]
    mv = pd.DataFrame({"grade_n": v.groupby(a["id_y"]).count(), "grade_sum": v.groupby(a["id_y"]).sum(),
                       "grade_sq": (v * v).groupby(a["id_y"]).sum(), "grade_7": (v >= 7).groupby(a["id_y"]).sum(),
                       "grade_9": (v >= 9).groupby(a["id_y"]).sum()}).rename_axis("moment_id")
    return {
        "overview_total": pd.DataFrame([_pandas_sums(month)]),
        "overview_previous": pd.DataFrame([_pandas_sums(r[_pandas_span(r, PREVIOUS_SPAN)])]),
        "overview_trend": pd.DataFrame([{"key": f"{k}-01", **_pandas_sums(g)} for k, g in r.groupby(trend_key)]),
        "overview_journeys": pd.DataFrame([{"key": k, **_pandas_sums(g)} for k, g in
                                           month.groupby(month["moment_id"].map(journey_of))]),
        "moment_view": mv,
    }


def same(a: dict, b: dict, what: str) -> None:
    """Assert equal figures (keys compared as text, sums as numbers)."""
    def tidy(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        frame = frame.reset_index(drop=name != "moment_view").copy()
        frame.columns = [str(c) for c in frame.columns]
        if "index" in frame.columns:
            frame = frame.rename(columns={"index": "moment_id"})
        for col in frame.columns:
            frame[col] = frame[col].astype(str) if col == "key" else pd.to_numeric(frame[col]).astype(float)
        return frame[sorted(frame.columns)].sort_values(sorted(frame.columns)[0]).reset_index(drop=True)

    for name in a:
        pd.testing.assert_frame_equal(tidy(a[name], name), tidy(b[name], name), check_dtype=False,
                                      check_names=False, obj=f"{what}: {name}")


def moment_view_call(engine, journey_id: int, f: MetricFilter):
    """The whole moment view as the page calls it: per-moment figures from the aggregate and the PRCA label check."""
    with UnitOfWork(engine, readonly=True) as s:
        return service.moment_view(s, journey_id, f, min_n=30, language="en")


def p95(times: list[float]) -> float:
    return float(np.percentile(times, 95))


def timed(func, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return p95(times) * 1000, statistics.median(times) * 1000, result


def write_parquet(data: Synthetic, parquet_dir: Path):
    """The raw data as Parquet, written by DuckDB itself (no pyarrow needed); views that scan the files."""
    parquet_dir.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    frames = {"r": data.responses.assign(team_id=data.responses["team_id"].astype("float64")),
              "a": data.answers.assign(question_key=data.answers["question_key"].astype(str)), "m": data.moments}
    for name, frame in frames.items():
        con.register(f"{name}_df", frame)
        con.execute(f"COPY {name}_df TO '{parquet_dir / (name + '.parquet')}' (FORMAT parquet)")
        con.unregister(f"{name}_df")
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{parquet_dir / (name + '.parquet')}')")
    return con


def _step(what: str, start: float) -> None:
    print(f"{what} in {time.perf_counter() - start:.1f} s   (load average {os.getloadavg()[0]:.2f})", flush=True)


def run_backend(backend: str, args, workdir: Path) -> None:
    print(f"\n== {backend}: {args.size:,} responses ==   load average {os.getloadavg()}", flush=True)
    with fresh_database(backend, args.pg_url, workdir) as engine:
        begin = time.perf_counter()
        migrate.upgrade(engine)
        moment_ids, journey_ids, team_ids, version_id = catalogue(engine)
        t = time.perf_counter()
        data = generate(args.size, args.seed, moment_ids, journey_ids, team_ids)
        _step(f"generated {len(data.responses):,} responses, {len(data.answers):,} moment grades", t)
        t = time.perf_counter()
        load(engine, data, version_id)
        _step(f"loaded ({'COPY' if backend == 'postgresql' else 'executemany'}, indexes built after)", t)
        t = time.perf_counter()
        rows = build_daily_counts(engine)
        _step(f"score_daily_counts built by refresh_daily_counts: {rows:,} rows", t)
        journey_id = journey_ids["fault_repair"]

        t = time.perf_counter()
        pd_p95, pd_med, pd_result = timed(partial(pandas_figures, data, journey_id), 3)
        _step("pandas figures (3 runs)", t)
        con = write_parquet(data, workdir / f"parquet_{backend}")
        del data  # a dashboard process holds no raw frames: time the database without them in memory
        gc.collect()

        with UnitOfWork(engine, readonly=True) as s:  # the product's own choice, as the dashboard makes it
            assert repo.has_daily_counts(s), "the dashboard would read the raw tables"
        t = time.perf_counter()
        # source "auto": each query first asks whether the aggregate is current (has_daily_counts), as the pages do
        db_p95, db_med, db_result = timed(lambda: db_figures(engine, journey_id), args.runs)
        duck_p95, duck_med, duck_result = timed(lambda: duckdb_figures(con, journey_id), args.runs)
        _step("database and DuckDB timings", t)
        same(db_result, duck_result, "database vs DuckDB")
        same(db_result, pd_result, "database vs pandas")
        print("same numbers: database aggregate = DuckDB on raw Parquet = pandas (asserted)")
        if args.raw_check:
            t = time.perf_counter()
            same(db_result, db_figures(engine, journey_id, "raw"), "aggregate vs raw table")
            _step("same numbers from the raw tables (asserted, one run)", t)

        print(f"{'overview + moment view queries':<40}{'p95 ms':>10}{'median ms':>11}")
        print(f"{backend + ' (score_daily_counts)':<40}{db_p95:>10.1f}{db_med:>11.1f}   runs={args.runs}")
        print(f"{'DuckDB on raw Parquet':<40}{duck_p95:>10.1f}{duck_med:>11.1f}   runs={args.runs}")
        print(f"{'pandas on raw frames':<40}{pd_p95:>10.1f}{pd_med:>11.1f}   runs=3")
        print(f"ratio {backend}/DuckDB p95 = {db_p95 / duck_p95:.3f}   {backend}/pandas p95 = {db_p95 / pd_p95:.4f}   "
              f"target < 100 ms: {'met' if db_p95 < 100 else 'NOT met'}; "
              f"no slower than DuckDB: {'met' if db_p95 <= duck_p95 else 'NOT met'}")
        for label, f in (("month", OVERVIEW_MONTH), ("whole year", MetricFilter())):
            label_check._cache.clear()  # the first call computes the label check, the next ones find it remembered
            t = time.perf_counter()
            view = moment_view_call(engine, journey_id, f)
            cold = (time.perf_counter() - t) * 1000
            warm_p95, warm_med, _ = timed(partial(moment_view_call, engine, journey_id, f), args.view_runs)
            print(f"{'moment_view service call, ' + label:<40}{'first':>10}{cold:>11.1f}   then p95 {warm_p95:.1f} ms, "
                  f"median {warm_med:.1f} ms over {args.view_runs} runs (label check remembered); {args.size:,} "
                  f"responses, check on {view.prca_n:,} complete answers"
                  f"{' (the newest)' if view.prca_sampled else ''}; load average {os.getloadavg()[0]:.1f}")
        _step(f"{backend} total", begin)
        con.close()
        shutil.rmtree(workdir / f"parquet_{backend}", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--view-runs", type=int, default=5, help="runs of the full moment_view service call")
    parser.add_argument("--pg-url", default=os.environ.get("SERVICEPULSE_TEST_POSTGRES_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file and Parquet go (default: temp)")
    parser.add_argument("--raw-check", action="store_true",
                        help="also compute the figures from the raw tables once and assert they are the same (slow)")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            run_backend(backend, args, workdir)


if __name__ == "__main__":
    main()
