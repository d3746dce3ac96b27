"""Promises made in imported event logs: every import queues the `expectations.on_events` job,
which recognises them and decides them from the events that follow (CSV through the CLI,
JSON lines and XES through the service, as the API and the CLI call it)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from servicepulse.cases import service as cases_service
from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.queue import run_pending
from servicepulse.kernels.eventlog import read_event_log
from servicepulse.models import Case, Job, Promise, utcnow

from ..cli.conftest import url_of

# The job runs on the worker's clock, so the log is dated just before now.
BASE = utcnow().replace(microsecond=0) - timedelta(hours=6)


def t(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


def _run_jobs(engine) -> None:
    """Everything due now, including what the jobs queue for now."""
    while (summary := run_pending(engine, now=utcnow(), limit=50)).claimed:
        assert summary.failed == summary.retried == 0


def _promises(engine) -> dict[str, tuple]:
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Case.external_id, Promise.kind, Promise.status, Promise.kept_at, Promise.broken_at,
                                Promise.source).join(Case, Case.id == Promise.case_id)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _ingest_file(engine, path, fmt: str) -> None:
    with UnitOfWork(engine) as s:
        ingest_events(s, read_event_log(path, fmt), source=path.name)


def test_a_promise_in_an_imported_log_is_recorded_then_kept_or_broken(engine, tmp_path, cli):
    first = tmp_path / "first.csv"
    first.write_text(
        "case_id,activity,timestamp,team,direction,customer_facing,due_at\n"
        f"K1,Customer calls,{t(0)},Front office,inbound,yes,\n"
        f"K1,Call-back promised,{t(0.1)},Back office,,no,{t(30)}\n"
        f"B1,Customer calls,{t(0)},Front office,inbound,yes,\n"
        f"B1,Reply promised,{t(0.1)},Back office,,no,{t(1)}\n")
    result = cli(url_of(engine), "import", "events", str(first))
    assert result.code == 0, result.err
    assert _promises(engine) == {}  # recognised by the job, in the worker
    _run_jobs(engine)
    promises = _promises(engine)
    assert promises["K1"][:2] == ("callback", "open")  # due in a day: nothing has kept it yet
    assert promises["B1"][:2] == ("reply_by", "broken") and promises["B1"][3] == BASE + timedelta(hours=1)
    assert {p[4] for p in promises.values()} == {"event"}

    # A later import (JSON lines) brings the call back: the promise is kept at its time.
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"case_id": "K1", "activity": "Customer called back", "timestamp": t(2),
                                 "team": "Back office", "direction": "outbound", "customer_facing": True}) + "\n")
    _ingest_file(engine, later, "jsonl")
    _run_jobs(engine)
    promises = _promises(engine)
    assert promises["K1"][:3] == ("callback", "kept", BASE + timedelta(hours=2))
    assert promises["B1"][1] == "broken"  # a late answer does not mend it (not even re-imported)
    assert len(promises) == 2  # one promise per event, however often the jobs run


XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace>
    <string key="concept:name" value="X1"/>
    <event>
      <string key="concept:name" value="Appointment promised"/>
      <date key="time:timestamp" value="{made}"/>
      <string key="org:group" value="Field"/>
      <string key="window_start" value="{window}"/>
      <string key="due_at" value="{due}"/>
    </event>
    <event>
      <string key="concept:name" value="Engineer visit"/>
      <date key="time:timestamp" value="{visit}"/>
      <string key="org:group" value="Field"/>
      <string key="direction" value="outbound"/>
      <boolean key="customer_facing" value="true"/>
    </event>
  </trace>
</log>
"""


def test_a_promise_in_an_xes_log_is_recognised_and_kept(engine, tmp_path):
    path = tmp_path / "visits.xes"
    path.write_text(XES.format(made=t(0), window=t(3), due=t(5), visit=t(4)))
    _ingest_file(engine, path, "xes")
    _run_jobs(engine)
    assert _promises(engine)["X1"][:3] == ("appointment", "kept", BASE + timedelta(hours=4))


def test_a_large_import_queues_bounded_jobs(engine, monkeypatch):
    monkeypatch.setattr(cases_service, "JOB_CASES", 2)
    with UnitOfWork(engine) as s:
        ingest_events(s, [{"case_id": f"L{i}", "activity": "Call-back promised", "timestamp": t(i)}
                          for i in range(5)])
        ids = sorted(s.scalars(select(Case.id)))
    with UnitOfWork(engine, readonly=True) as s:
        payloads = [j.payload for j in s.scalars(select(Job).where(Job.kind == "expectations.on_events")
                                                 .order_by(Job.id))]
    assert [p["case_ids"] for p in payloads] == [ids[:2], ids[2:4], ids[4:]]
    _run_jobs(engine)
    assert len(_promises(engine)) == 5


def test_an_import_without_notify_queues_nothing(engine):
    with UnitOfWork(engine) as s:
        ingest_events(s, [{"case_id": "Q1", "activity": "Call-back promised", "timestamp": t(0)}], notify=False)
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Job)).all() == []
