"""The metric queries behind the overview and the moment view at scale (prints figures; not a test).

Generates N synthetic responses with the demo's effect model (vectorised:
drivers per response, moment grades by `servicepulse.demo.effects.moment_grades`,
NPS/grade/CES by `overall_scores`; the Glasvezel Noord journeys, moments and
teams of `servicepulse.demo.catalogue`), writes them to a fresh database
(COPY on PostgreSQL, executemany in one transaction on SQLite), builds the
`score_daily_counts` aggregate with `refresh_daily_counts`, then times the
queries the dashboard runs and compares them with DuckDB scanning the raw
data (Parquet written from the same arrays) and with pandas: same numbers
(asserted), p95 over repeated runs, ratios from one run.

Run:
    python bench/metrics_10m.py --size 10000000 --backend both
    python bench/metrics_10m.py --size 1000000 --backend sqlite --runs 30
PostgreSQL: --pg-url postgresql+psycopg://postgres@127.0.0.1/postgres (a database sp_bench_metrics is created).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from servicepulse.db import migrate
from servicepulse.db.engine import make_engine
from servicepulse.db.session import UnitOfWork
from servicepulse.demo import effects
from servicepulse.demo.catalogue import JOURNEYS, SEGMENT_SHARES, TEAMS
from servicepulse.insights import repository as repo
from servicepulse.insights.repository import MetricFilter
from servicepulse.models import Journey, Moment, OrgUnit, Survey, SurveyVersion

START = datetime(2025, 11, 1, tzinfo=timezone.utc)
DAYS = 365
PREVALENCE = {"broken_promise": 0.17, "dark_period_over_2_days": 0.45, "repeat_contact": 0.33, "handoff": 0.5,
              "reopened": 0.04, "after_hours_contact": 0.3, "channel_switch": 0.13, "proactive_update": 0.2,
              "first_time_right": 0.55}
MET_SHARE = 0.85  # a response grades each non-first moment of its journey with this chance
OVERVIEW_MONTH = MetricFilter(date_from=date(2026, 10, 1), date_to=date(2026, 11, 1))


@dataclass
class Synthetic:
    responses: pd.DataFrame  # id, customer_id, moment_id, team_id, channel, submitted_at, nps, grade, ces, csat
    answers: pd.DataFrame  # id, response_id, question_key, value_num
    customers: pd.DataFrame  # id, segment
    moments: pd.DataFrame  # id, journey_id, key


def generate(n: int, seed: int, moment_ids: dict[tuple[str, str], int], journey_ids: dict[str, int],
             team_ids: list[int]) -> Synthetic:
    rng = np.random.default_rng(seed)
    n_customers = max(1000, n // 20)
    seg_names = list(SEGMENT_SHARES)
    customers = pd.DataFrame({"id": np.arange(1, n_customers + 1),
                              "segment": rng.choice(seg_names, n_customers, p=list(SEGMENT_SHARES.values()))})
    shares = np.array([j.share for j in JOURNEYS])
    journey = rng.choice(len(JOURNEYS), n, p=shares / shares.sum())
    drivers = (rng.random((n, len(effects.DRIVERS))) < np.array([PREVALENCE[d] for d in effects.DRIVERS])).astype(float)
    moment_term = np.zeros(n)
    resp_moment = np.zeros(n, dtype=np.int64)
    parts = []
    for ji, j in enumerate(JOURNEYS):
        rows = np.flatnonzero(journey == ji)
        resp_moment[rows] = moment_ids[(j.key, j.moments[-1].key)]
        for pos, m in enumerate(j.moments):
            g = effects.moment_grades(drivers[rows], m.kind, m.base, m.key, rng).astype(float)
            seen = np.ones(len(rows), bool) if pos == 0 else rng.random(len(rows)) < MET_SHARE
            moment_term[rows] += effects.moment_contribution(np.where(seen, g, np.nan), m.kind)
            parts.append(pd.DataFrame({"response_id": rows[seen] + 1, "question_key": f"moment_{m.key}",
                                       "value_num": g[seen]}))
    scores = effects.overall_scores(drivers, moment_term, rng)
    seconds = rng.integers(0, DAYS * 86400, n)
    submitted = pd.to_datetime(START) + pd.to_timedelta(seconds, unit="s")
    team = np.array(team_ids + [0])[rng.integers(0, len(team_ids) + 1, n)]
    responses = pd.DataFrame({
        "id": np.arange(1, n + 1), "customer_id": rng.integers(1, n_customers + 1, n), "moment_id": resp_moment,
        "team_id": pd.array(np.where(team == 0, None, team), dtype="Int64"),
        "channel": np.where(rng.random(n) < 0.75, "email", "sms"), "submitted_at": submitted,
        "nps": scores.nps.astype(np.int16), "grade": scores.grade.astype(np.int16), "ces": scores.ces.astype(np.int16),
        "csat": np.clip(np.rint((scores.grade + 1) / 2.2), 1, 5).astype(np.int16),
    })
    answers = pd.concat(parts, ignore_index=True)
    answers.insert(0, "id", np.arange(1, len(answers) + 1))
    moments = pd.DataFrame([{"id": mid, "journey_id": journey_ids[jk], "key": mk} for (jk, mk), mid in moment_ids.items()])
    return Synthetic(responses, answers, customers, moments)


# -- database set-up and bulk load ---------------------------------------------------

def fresh_engine(backend: str, pg_url: str, workdir: Path):
    if backend == "sqlite":
        path = workdir / "bench.sqlite"
        if path.exists():
            path.unlink()
        return make_engine(f"sqlite:///{path}")
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    with psycopg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS sp_bench_metrics WITH (FORCE)")
        c.execute("CREATE DATABASE sp_bench_metrics")
    return make_engine(base.set(database="sp_bench_metrics").render_as_string(hide_password=False))


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
        return moment_ids, journey_ids, [t.id for t in teams], version.id


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S+00")


def load(engine, data: Synthetic, version_id: int, chunk: int = 500_000) -> None:
    r = data.responses.assign(survey_version_id=version_id, completed=True)
    r["created_at"] = r["submitted_at"]
    rcols = ["id", "survey_version_id", "customer_id", "moment_id", "team_id", "channel", "submitted_at",
             "created_at", "completed", "nps", "grade", "ces", "csat"]
    acols = ["id", "response_id", "question_key", "value_num"]
    ccols = ["id", "external_id", "segment", "language", "attributes", "created_at"]
    cust = data.customers.assign(external_id=lambda d: "B" + d["id"].astype(str), language="nl", attributes="{}",
                                 created_at=pd.Timestamp(START))
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                for table, frame, cols in (("customers", cust, ccols), ("responses", r, rcols),
                                           ("answers", data.answers, acols)):
                    for start in range(0, len(frame), chunk):
                        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT csv)") as copy:
                            copy.write(_csv(frame[cols].iloc[start:start + chunk]))
            raw.commit()
        finally:
            raw.close()
        return
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("BEGIN")
        for table, frame, cols in (("customers", cust, ccols), ("responses", r, rcols), ("answers", data.answers, acols)):
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            for start in range(0, len(frame), chunk):
                part = frame[cols].iloc[start:start + chunk].copy()
                for col in ("submitted_at", "created_at"):
                    if col in part:
                        part[col] = pd.to_datetime(part[col]).dt.tz_convert(None).dt.strftime(fmt)
                part = part.astype(object).where(part.notna(), None)
                cur.executemany(sql, part.itertuples(index=False, name=None))
        conn.commit()
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        conn.close()


# -- the figures, three ways -----------------------------------------------------------

def db_figures(engine, journey_id: int, source: str = "daily") -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        return {
            "overview_total": repo.metric_sums(s, OVERVIEW_MONTH, source=source),
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


def duckdb_figures(con, journey_id: int) -> dict:
    month = "submitted_at >= TIMESTAMPTZ '2026-10-01 00:00:00+00' AND submitted_at < TIMESTAMPTZ '2026-11-01 00:00:00+00'"
    return {
        "overview_total": con.execute(f"SELECT {SUMS_SQL} FROM r WHERE {month}").df(),
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


def pandas_figures(data: Synthetic, journey_id: int) -> dict:
    r = data.responses
    in_month = (r["submitted_at"] >= pd.Timestamp("2026-10-01", tz="UTC")) & (r["submitted_at"] < pd.Timestamp("2026-11-01", tz="UTC"))
    month = r[in_month]
    journey_of = data.moments.set_index("id")["journey_id"]
    trend_key = r["submitted_at"].dt.strftime("%Y-%m-01")
    m_of_key = data.moments[data.moments["journey_id"] == journey_id].assign(question_key=lambda d: "moment_" + d["key"])
    a = data.answers.merge(m_of_key[["id", "question_key"]], on="question_key")
    a = a[in_month.to_numpy()[a["response_id"].to_numpy() - 1]]
    v = a["value_num"]
    mv = pd.DataFrame({"grade_n": v.groupby(a["id_y"]).count(), "grade_sum": v.groupby(a["id_y"]).sum(),
                       "grade_sq": (v * v).groupby(a["id_y"]).sum(), "grade_7": (v >= 7).groupby(a["id_y"]).sum(),
                       "grade_9": (v >= 9).groupby(a["id_y"]).sum()}).rename_axis("moment_id")
    return {
        "overview_total": pd.DataFrame([_pandas_sums(month)]),
        "overview_trend": pd.DataFrame([{"key": k, **_pandas_sums(g)} for k, g in r.groupby(trend_key)]),
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


def p95(times: list[float]) -> float:
    return float(np.percentile(times, 95))


def timed(func, runs: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return p95(times) * 1000, statistics.median(times) * 1000, result


def run_backend(backend: str, args, workdir: Path) -> None:
    print(f"\n== {backend}: {args.size:,} responses ==")
    engine = fresh_engine(backend, args.pg_url, workdir)
    migrate.upgrade(engine)
    moment_ids, journey_ids, team_ids, version_id = catalogue(engine)
    t = time.perf_counter()
    data = generate(args.size, args.seed, moment_ids, journey_ids, team_ids)
    print(f"generated {len(data.responses):,} responses, {len(data.answers):,} moment grades in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    load(engine, data, version_id)
    print(f"loaded in {time.perf_counter() - t:.1f} s ({'COPY' if backend == 'postgresql' else 'executemany'})")
    t = time.perf_counter()
    with UnitOfWork(engine) as s:
        rows = repo.refresh_daily_counts(s)
    if backend == "postgresql":
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    print(f"score_daily_counts built: {rows:,} rows in {time.perf_counter() - t:.1f} s")
    journey_id = journey_ids["fault_repair"]

    db_p95, db_med, db_result = timed(lambda: db_figures(engine, journey_id, "daily"), args.runs)

    # the raw data as Parquet, written by DuckDB itself (no pyarrow needed), then scanned from the files
    parquet_dir = workdir / "parquet"
    parquet_dir.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    frames = {"r": data.responses.assign(team_id=data.responses["team_id"].astype("float64")),
              "a": data.answers, "m": data.moments}
    for name, frame in frames.items():
        con.register(f"{name}_df", frame)
        con.execute(f"COPY {name}_df TO '{parquet_dir / (name + '.parquet')}' (FORMAT parquet)")
        con.unregister(f"{name}_df")
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{parquet_dir / (name + '.parquet')}')")
    duck_p95, duck_med, duck_result = timed(lambda: duckdb_figures(con, journey_id), max(3, args.runs // 3))
    pd_p95, pd_med, pd_result = timed(lambda: pandas_figures(data, journey_id), 3)

    same(db_result, duck_result, "database vs DuckDB")
    same(db_result, pd_result, "database vs pandas")
    print("same numbers: database aggregate = DuckDB on raw Parquet = pandas (asserted)")

    raw_start = time.perf_counter()
    raw_result = db_figures(engine, journey_id, "raw")
    raw_ms = (time.perf_counter() - raw_start) * 1000
    same(db_result, raw_result, "aggregate vs raw table")

    print(f"{'overview + moment view queries':<40}{'p95 ms':>10}{'median ms':>11}")
    print(f"{backend + ' (score_daily_counts)':<40}{db_p95:>10.1f}{db_med:>11.1f}   runs={args.runs}")
    print(f"{'DuckDB on raw Parquet':<40}{duck_p95:>10.1f}{duck_med:>11.1f}")
    print(f"{'pandas on raw frames':<40}{pd_p95:>10.1f}{pd_med:>11.1f}")
    print(f"{backend + ' raw tables (one run)':<40}{raw_ms:>10.1f}")
    print(f"ratio {backend}/DuckDB p95 = {db_p95 / duck_p95:.3f}   {backend}/pandas p95 = {db_p95 / pd_p95:.4f}   "
          f"target < 100 ms: {'met' if db_p95 < 100 else 'NOT met'}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default=os.environ.get("SERVICEPULSE_TEST_POSTGRES_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file and Parquet go (default: temp)")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            run_backend(backend, args, workdir)


if __name__ == "__main__":
    main()
