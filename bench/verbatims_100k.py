"""100,000 comments redacted, themed and scored end to end, including reading them from and storing
the results in the database (verbatims.analysis.analyse_responses).

Usage: python bench/verbatims_100k.py [N] [--workers W] [--postgres URL]
Comments: tests/text/verbatim_composer.py (Dutch and English, ~5% with personal data). Setting up the
responses is not timed; the timed part is one unit of work: read comments, run the pipeline in W
processes, delete+insert the verbatim rows and mentions, commit. Target: 100,000 in under 60 s.
The machine is shared: CPU seconds (this process + worker processes) are printed beside wall time.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select, text  # noqa: E402
from tests.kernels.text.verbatim_composer import compose_comments  # noqa: E402

from servicepulse.db import migrate  # noqa: E402
from servicepulse.db.engine import make_engine  # noqa: E402
from servicepulse.db.session import UnitOfWork  # noqa: E402
from servicepulse.models import Response, Survey, SurveyVersion, VerbatimMention  # noqa: E402
from servicepulse.verbatims.analysis import analyse_responses  # noqa: E402


def cpu_seconds() -> tuple[float, float]:
    """(this process, finished child processes) CPU seconds."""
    t = os.times()
    return t.user + t.system, t.children_user + t.children_system


def setup(engine, n: int) -> None:
    comments = compose_comments(n, seed=2026)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with UnitOfWork(engine) as s:
        survey = Survey(key="bench", name="bench")
        s.add(survey)
        s.flush()
        version = SurveyVersion(survey_id=survey.id, version=1, definition={"questions": []})
        s.add(version)
        s.flush()
        rows = [{"survey_version_id": version.id, "submitted_at": t0 + timedelta(minutes=i), "created_at": t0,
                 "completed": True, "nps": c.score, "comment": c.text, "language": c.language}
                for i, c in enumerate(comments)]
        for k in range(0, n, 20_000):
            s.execute(insert(Response), rows[k:k + 20_000])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=0, help="processes for the text pipeline (0 = all cores)")
    ap.add_argument("--postgres", help="a PostgreSQL URL of an EMPTY scratch database (default: SQLite in a temp dir)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        t = time.perf_counter()
        setup(engine, args.n)
        print(f"setup: {args.n:,} responses with comments written in {time.perf_counter() - t:.1f} s "
              f"({engine.dialect.name}; not part of the figure)")

        timings: dict[str, float] = {}
        load0 = os.getloadavg()[0]
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        with UnitOfWork(engine) as s:
            summary = analyse_responses(s, workers=args.workers, timings=timings)
        t_commit = time.perf_counter()
        wall = t_commit - wall0
        cpu_main, cpu_workers = (b - a for a, b in zip(cpu0, cpu_seconds()))
        cpu = cpu_main + cpu_workers
        with engine.connect() as conn:
            mentions = conn.scalar(select(func.count()).select_from(VerbatimMention))
            if engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE verbatim_mentions, verbatims, responses, survey_versions, surveys CASCADE"))
                conn.commit()
        engine.dispose()

    workers = args.workers or os.cpu_count()
    print(f"analysed and stored: {summary.analysed:,} comments, {mentions:,} theme mentions, "
          f"{summary.skipped_empty:,} empty skipped; workers={workers}")
    print("stages (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
          + f", commit {wall - sum(timings.values()):.1f}")
    print(f"end to end: wall {wall:.1f} s, CPU {cpu:.1f} s (main {cpu_main:.1f} + workers {cpu_workers:.1f}), "
          f"{1000 * cpu / max(1, summary.analysed):.2f} ms CPU per comment, "
          f"{summary.analysed / wall:,.0f} comments/s wall")
    goal = 60.0 * args.n / 100_000
    print(f"target {goal:.0f} s wall for {args.n:,}: {'met' if wall < goal else 'NOT met'} "
          f"(1-minute load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} now, on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
