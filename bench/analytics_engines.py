"""The read layer on three engines side by side: chDB (ClickHouse in-process), PostgreSQL and DuckDB.

Data, generated vectorised and loaded straight into each engine (not through the web app):
- N responses from the demo's effect model (`bench/metrics_10m.generate`: the demo generator's case mix,
  `effects.moment_grades` / `overall_scores`), a third with a comment from a small phrase bank;
- about M case events: cases of the demo's journeys (shares from `demo.catalogue.JOURNEYS`), each moment
  visited once to three times in journey order, a repeat contact for some, gaps drawn exponentially over a
  year; their case facts (throughput from the events, effort facts drawn as the demo's rates).

Queries: the product's own query functions through the read layer (`analytics_store.reader`), the same
SQLAlchemy Core statements compiled for each engine: drill-downs over raw responses by segment and period
(`metrics.repository.metric_sums`, source raw), the comment browser's search (`verbatims.repository.browse`),
and the process statistics of one journey over a year (`journeys.process_repository.process_stats`:
directly-follows counts, median and mean times, variants, moment times; `fact_figures`: throughput
percentiles). The answers of all engines are asserted equal before any time is printed.

Prints p50/p95 per query and engine (wall clock over --runs runs after one warm-up), load time, the
process's peak RSS after each load (chDB and DuckDB run in this process) and each engine's own size figure.

    python bench/analytics_engines.py [--responses 100000] [--events 1000000] [--runs 10]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1/postgres] [--engines chdb,postgresql,duckdb]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metrics_10m import START, _columns, catalogue, fresh_database  # noqa: E402
from metrics_10m import generate as generate_responses  # noqa: E402

from servicepulse.analytics_store import open_store  # noqa: E402
from servicepulse.analytics_store.reader import DUCKDB, ClickHouseReader, Reader, SessionReader  # noqa: E402
from servicepulse.analytics_store.schema import DELETED, TABLES, VERSION, create_schema  # noqa: E402
from servicepulse.db import bulkio, migrate  # noqa: E402
from servicepulse.db.session import UnitOfWork  # noqa: E402
from servicepulse.demo.catalogue import JOURNEYS  # noqa: E402
from servicepulse.journeys.process_repository import ProcessFilter, cases_of, fact_figures, process_stats  # noqa: E402
from servicepulse.metrics import repository as repo  # noqa: E402
from servicepulse.models import Case, CaseEvent, CaseFacts, Customer, Response, Verbatim  # noqa: E402
from servicepulse.verbatims.repository import VerbatimFilter, browse  # noqa: E402

YEAR = (date(2026, 1, 1), date(2027, 1, 1))
PHRASES = {
    "nl": ["De monteur kwam op tijd", "Ik moest drie keer bellen", "Wachten op de monteur duurde te lang",
           "Goed geholpen door de klantenservice", "De factuur klopte niet", "Niemand belde terug",
           "Snel opgelost", "De verhuizing ging zonder problemen", "Twee weken geen internet",
           "Vriendelijke medewerker aan de telefoon"],
    "en": ["The engineer was on time", "I had to call three times", "Nobody called me back",
           "Quickly solved", "The invoice was wrong", "Friendly staff on the phone"],
}


# -- data -----------------------------------------------------------------------------------------------

def verbatims_for(responses: pd.DataFrame, rng) -> pd.DataFrame:
    has = rng.random(len(responses)) < 0.33
    r = responses[has]
    lang = np.where(rng.random(len(r)) < 0.85, "nl", "en")
    words = {k: np.array(v, dtype=object) for k, v in PHRASES.items()}
    first = np.where(lang == "nl", words["nl"][rng.integers(0, len(words["nl"]), len(r))],
                     words["en"][rng.integers(0, len(words["en"]), len(r))])
    second = np.where(lang == "nl", words["nl"][rng.integers(0, len(words["nl"]), len(r))],
                      words["en"][rng.integers(0, len(words["en"]), len(r))])
    sentiment = np.clip((r["nps"].to_numpy() - 6.5) / 4 + rng.normal(0, 0.2, len(r)), -1, 1).round(3)
    return pd.DataFrame({"response_id": r["id"].to_numpy(), "text": first + ". " + second + ".", "language": lang,
                         "language_confidence": 0.9, "sentiment": sentiment, "lexicon_sentiment": sentiment,
                         "redactions": 0, "analysed_at": r["submitted_at"].to_numpy()})


def cases_and_events(m_events: int, n_customers: int, moment_ids, journey_ids, team_ids, rng):
    """(cases, events, facts) frames: about ``m_events`` events."""
    shares = np.array([j.share for j in JOURNEYS])
    per_case = sum(s * len(j.moments) * 1.5 for s, j in zip(shares / shares.sum(), JOURNEYS)) + 1.15
    n_cases = max(10, int(m_events / per_case))
    journey = rng.choice(len(JOURNEYS), n_cases, p=shares / shares.sum())
    acts, moments, case_of = [], [], []
    for ji, j in enumerate(JOURNEYS):
        rows = np.flatnonzero(journey == ji)
        counts = rng.choice([1, 2, 3], (len(rows), len(j.moments)), p=[0.6, 0.3, 0.1])
        names = np.array([m.name_en for m in j.moments], dtype=object)
        follow = np.array([m.name_en + " (follow-up)" for m in j.moments], dtype=object)
        ids = np.array([moment_ids[(j.key, m.key)] for m in j.moments])
        flat = counts.ravel()
        pos = np.tile(np.arange(len(j.moments)), len(rows))
        ev_pos = np.repeat(pos, flat)
        first_of_run = np.ones(len(ev_pos), dtype=bool)
        first_of_run[1:] = np.repeat(np.arange(len(flat)), flat)[1:] != np.repeat(np.arange(len(flat)), flat)[:-1]
        acts.append(np.where(first_of_run, names[ev_pos], follow[ev_pos]))
        moments.append(ids[ev_pos])
        case_of.append(np.repeat(rows, counts.sum(axis=1)))
    repeat = rng.random(n_cases) < 0.15
    tail_case = np.concatenate([np.flatnonzero(repeat), np.arange(n_cases)])
    tail_act = np.concatenate([np.full(int(repeat.sum()), "Customer called again", dtype=object),
                               np.full(n_cases, "Case closed", dtype=object)])
    case_id = np.concatenate([*case_of, tail_case])
    activity = np.concatenate([*acts, tail_act])
    moment = np.concatenate([*moments, np.full(len(tail_case), -1)])
    tail_rank = np.concatenate([np.zeros(sum(len(c) for c in case_of)), np.where(tail_act == "Case closed", 2, 1)])
    order = np.lexsort((tail_rank, case_id))  # stable within the case: journey order, then the tail
    case_id, activity, moment = case_id[order], activity[order], moment[order]
    n = len(case_id)
    starts = np.flatnonzero(np.r_[True, case_id[1:] != case_id[:-1]])
    gaps = rng.exponential(8 * 3600, n).astype(np.int64)
    gaps[starts] = 0
    opened = rng.integers(0, 365 * 86400, n_cases)
    seconds = opened[case_id] + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts], np.diff(np.r_[starts, n]))
    ts = pd.Timestamp(START) + pd.to_timedelta(seconds * 1_000_000 + rng.integers(0, 1_000_000, n), unit="us")
    teams = np.array(list(team_ids.values()))
    events = pd.DataFrame({
        "id": np.arange(1, n + 1), "case_id": case_id + 1, "occurred_at": ts, "seq": np.arange(n) - np.repeat(
            starts, np.diff(np.r_[starts, n])), "activity": activity,
        "channel": rng.choice(["phone", "email", "web", "field"], n), "direction": "inbound",
        "team_id": teams[rng.integers(0, len(teams), n)], "customer_facing": True,
        "moment_id": pd.array(np.where(moment < 0, 0, moment), dtype="Int64"), "attributes": "{}",
        "ingested_at": pd.Timestamp(START)})
    events.loc[moment < 0, "moment_id"] = pd.NA
    first_ts = ts[starts]
    last_ts = ts[np.r_[starts[1:] - 1, n - 1]]
    ids = np.arange(1, n_cases + 1)
    cases = pd.DataFrame({"id": ids, "external_id": "C" + pd.Series(ids).astype(str),
                          "journey_id": [journey_ids[JOURNEYS[j].key] for j in journey],
                          "customer_id": rng.integers(1, n_customers + 1, n_cases), "opened_at": first_ts,
                          "closed_at": last_ts, "last_team_id": teams[rng.integers(0, len(teams), n_cases)],
                          "attributes": "{}"})
    closed = rng.random(n_cases) < 0.9
    facts = pd.DataFrame({
        "case_id": ids, "events": np.diff(np.r_[starts, n]), "started_at": first_ts, "ended_at": last_ts,
        "throughput_days": (last_ts - first_ts).total_seconds().to_numpy() / 86400.0,
        "inbound_contacts": 1 + repeat, "repeat_contacts": repeat.astype(int),
        "after_hours_contacts": (rng.random(n_cases) < 0.3).astype(int), "channel_switches": rng.poisson(0.3, n_cases),
        "handoffs": rng.poisson(0.7, n_cases), "front_to_back": rng.poisson(0.5, n_cases), "back_to_front": 0,
        "ping_pong": 0, "dark_period_hours": rng.exponential(30.0, n_cases).round(6), "closed": closed,
        "reopenings": (rng.random(n_cases) < 0.05).astype(int), "first_time_right": closed & ~repeat,
        "waiting_on_customer_hours": 0.0, "closed_hours": 0.0, "waiting_on_us_hours": 0.0,
        "effort_index": rng.normal(30, 8, n_cases).round(6), "updated_at": pd.Timestamp(START)})
    return cases, events, facts


# -- loading --------------------------------------------------------------------------------------------

def tables(data) -> dict[str, pd.DataFrame]:
    responses, customers, verbatims, cases, events, facts, version_id = data
    r = responses.assign(survey_version_id=version_id, completed=True, language="nl", created_at=responses["submitted_at"])
    c = customers.assign(external_id=lambda d: "B" + d["id"].astype(str), language="nl", attributes="{}",
                         created_at=pd.Timestamp(START))
    return {"customers": c, "cases": cases, "case_events": events, "case_facts": facts, "responses": r,
            "verbatims": verbatims}


MODELS = {"customers": Customer, "cases": Case, "case_events": CaseEvent, "case_facts": CaseFacts,
          "responses": Response, "verbatims": Verbatim}


def load_postgres(engine, frames, chunk=1_000_000) -> None:
    with engine.connect() as conn:
        with conn.begin():
            for name, frame in frames.items():
                table = MODELS[name].__table__
                frame = frame[[c.name for c in table.columns if c.name in frame.columns]]
                for start in range(0, len(frame), chunk):
                    bulkio.write_rows(conn, table, _columns(frame.iloc[start:start + chunk], "postgresql"))
        for name in frames:
            conn.exec_driver_sql(f"ANALYZE {name}")
        conn.commit()


def _arrow(frame: pd.DataFrame) -> pa.Table:
    out = {}
    for name, values in frame.items():
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[name] = pa.array(values.dt.tz_convert("UTC").astype("datetime64[us, UTC]"))
        elif values.dtype == object:
            out[name] = pa.array(values.to_numpy(dtype=object), type=pa.string())
        else:
            out[name] = pa.array(values)
    out[VERSION] = pa.array(np.ones(len(frame), dtype=np.uint64))
    out[DELETED] = pa.array(np.zeros(len(frame), dtype=np.uint8))
    return pa.table(out)


def load_chdb(store, frames, chunk=2_000_000) -> None:
    create_schema(store)
    for name, frame in frames.items():
        frame = frame[[c for c in frame.columns if c in TABLES[name].columns]]  # what replication ships
        for start in range(0, len(frame), chunk):
            store.insert_arrow(name, _arrow(frame.iloc[start:start + chunk]))
        store.command(f"OPTIMIZE TABLE `{name}` FINAL")


class DuckDBReader(Reader):
    """DuckDB with PostgreSQL's SQL (compiled by SQLAlchemy's PostgreSQL dialect, values as literals) and the
    read layer's DuckDB pieces (`DUCKDB`)."""

    dialect = DUCKDB

    def __init__(self, con):
        self.con = con
        self.pg = postgresql.dialect(paramstyle="named")  # "%" stays "%" (pyformat would double it)

    def rows(self, stmt) -> list[tuple]:
        sql = str(stmt.compile(dialect=self.pg, compile_kwargs={"literal_binds": True, "render_postcompile": True}))
        return [tuple(v.astimezone(UTC) if isinstance(v, datetime) else v for v in r)
                for r in self.con.execute(sql).fetchall()]


def _duck_type(column) -> str:
    t = column.type
    for kinds, name in ((("DateTime", "UTCDateTime"), "TIMESTAMPTZ"), (("Boolean",), "BOOLEAN"),
                        (("Float",), "DOUBLE"), (("SmallInteger",), "SMALLINT"), (("Integer", "BigInteger"), "BIGINT")):
        if any(type(t).__name__ == k or k in [c.__name__ for c in type(t).__mro__] for k in kinds):
            return name
    return "VARCHAR"


def load_duckdb(con, frames, moments, journeys) -> None:
    """Each table with every column of its model (the frame's, the rest NULL), as the queries expect."""
    con.execute("SET TimeZone = 'UTC'")
    for name, frame in {**frames, "moments": moments, "journeys": journeys}.items():
        con.register("frame", frame)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
        model = MODELS.get(name)
        for column in model.__table__.columns if model is not None else ():
            if column.name not in frame.columns:
                con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column.name}" {_duck_type(column)}')


# -- queries --------------------------------------------------------------------------------------------

def queries(fault_id: int):
    F = repo.MetricFilter
    half = F(segment="business", date_from=date(2026, 1, 1), date_to=date(2026, 7, 1))
    return {
        "drill: segment x week (half year)": lambda r: repo.metric_sums(r, half, by="period", period="week",
                                                                        source="raw").to_dict("list"),
        "drill: journey+channel by segment": lambda r: repo.metric_sums(r, F(journey_id=fault_id, channel="sms"),
                                                                        by="segment", source="raw").to_dict("list"),
        "drill: segment by team, month": lambda r: repo.metric_sums(
            r, F(segment="senior", date_from=date(2026, 3, 1), date_to=date(2026, 4, 1)), by="team",
            source="raw").to_dict("list"),
        "comment search 'monteur'": lambda r: browse(r, VerbatimFilter(search="MONTEUR"), limit=50),
        "process: DFG+variants+moments (year)": lambda r: process_stats(r, ProcessFilter(fault_id, *YEAR)).__dict__,
        "process: throughput p50/p90 (year)": lambda r: fact_figures(r, cases_of(ProcessFilter(fault_id, *YEAR))
                                                                      ).__dict__,
    }


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9)
    if hasattr(a, "timestamp") and hasattr(b, "timestamp"):
        return a.timestamp() == b.timestamp()
    return a == b


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--budget", type=float, default=60.0,
                    help="seconds per query and engine: fewer runs when a run is slow (at least 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engines", default="chdb,postgresql,duckdb")
    ap.add_argument("--pg-url", default=os.environ.get("SERVICEPULSE_TEST_POSTGRES_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    args = ap.parse_args()
    engines = args.engines.split(",")
    rng = np.random.default_rng(args.seed)
    print(f"analytics engines: {args.responses:,} responses, ~{args.events:,} events, {args.runs} runs; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, fresh_database("postgresql", args.pg_url, Path(tmp)) as pg:
        migrate.upgrade(pg)
        moment_ids, journey_ids, team_ids, version_id = catalogue(pg)
        t = time.perf_counter()
        synthetic = generate_responses(args.responses, args.seed, moment_ids, journey_ids, team_ids)
        responses = synthetic.responses
        verbatims = verbatims_for(responses, rng)
        cases, events, facts = cases_and_events(args.events, len(synthetic.customers), moment_ids, journey_ids,
                                                team_ids, rng)
        frames = tables((responses, synthetic.customers, verbatims, cases, events, facts, version_id))
        print(f"generated in {time.perf_counter() - t:.1f} s: {len(responses):,} responses, {len(verbatims):,} "
              f"comments, {len(cases):,} cases, {len(events):,} events; peak RSS {peak_mb():,.0f} MB")
        with UnitOfWork(pg, readonly=True) as s:
            dims = {name: pd.read_sql(text(f"SELECT * FROM {name}"), s.connection())
                    for name in ("journeys", "moments", "org_units")}
        readers: dict[str, Reader] = {}
        sizes: dict[str, str] = {}
        loads: dict[str, float] = {}
        session = None
        if "postgresql" in engines:
            t = time.perf_counter()
            load_postgres(pg, frames)
            loads["postgresql"] = time.perf_counter() - t
            uow = UnitOfWork(pg, readonly=True)
            session = uow.__enter__()
            readers["postgresql"] = SessionReader(session)
            sizes["postgresql"] = f"{session.scalar(text('SELECT pg_database_size(current_database())')) / 2**20:,.0f} MB on disk"
        if "chdb" in engines:
            store = open_store(f"chdb://{tmp}/chdb", Path(tmp))
            t = time.perf_counter()
            create_schema(store)
            for name in ("journeys", "moments", "org_units"):  # the dimension tables, as replication ships them
                store.insert_arrow(name, _arrow(dims[name][[c for c in dims[name].columns if c in TABLES[name].columns]]))
            load_chdb(store, frames)
            loads["chdb"] = time.perf_counter() - t
            readers["chdb"] = ClickHouseReader(store.query_arrow)
            size = store.scalar("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = currentDatabase()")
            sizes["chdb"] = f"{int(size or 0) / 2**20:,.0f} MB on disk (compressed)"
            print(f"  loaded chdb in {loads['chdb']:.1f} s; process peak RSS {peak_mb():,.0f} MB")
        if "duckdb" in engines:
            con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
            t = time.perf_counter()
            load_duckdb(con, frames, dims["moments"], dims["journeys"])
            loads["duckdb"] = time.perf_counter() - t
            readers["duckdb"] = DuckDBReader(con)
            sizes["duckdb"] = f"{con.execute('CALL pragma_database_size()').fetchone()[1]} on disk"
            print(f"  loaded duckdb in {loads['duckdb']:.1f} s; process peak RSS {peak_mb():,.0f} MB")
        for name in loads:
            print(f"load {name:<10} {loads[name]:8.1f} s   {sizes[name]}")

        qs = queries(journey_ids["fault_repair"])
        print(f"\n{'query':<40}" + "".join(f"{e:>22}" for e in readers) + "   (p50 / p95 ms; (n): runs within the budget)")
        for label, call in qs.items():
            answers = {e: call(r) for e, r in readers.items()}  # warm-up, and the answers to compare
            first = next(iter(answers.values()))
            for e, a in answers.items():
                assert _same(first, a), f"{label}: {e} differs:\n{str(first)[:600]}\n{str(a)[:600]}"
            cells = []
            for r in readers.values():
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    call(r)
                    times.append((time.perf_counter() - t) * 1000)
                    if len(times) >= 3 and sum(times) > args.budget * 1000:
                        break
                times.sort()
                p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
                cells.append(f"{statistics.median(times):9.0f} / {p95:8.0f}" + ("" if len(times) == args.runs
                                                                                 else f" ({len(times)})"))
            print(f"{label:<40}" + "".join(f"{c:>22}" for c in cells))
        print(f"\nsame answers on {', '.join(readers)} (asserted); process peak RSS {peak_mb():,.0f} MB; "
              f"load average {os.getloadavg()[0]:.1f}")
        if session is not None:
            uow.__exit__(None, None, None)
        if "chdb" in readers:
            store.close()


if __name__ == "__main__":
    main()
