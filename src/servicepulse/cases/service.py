"""Cases domain service: the one entry point for storing case events.

``ingest_events(session, frame_or_records, ...)`` takes a normalised event
frame (from `servicepulse.kernels.eventlog.read_event_log`) or API-style records
(dicts with the event fields: case_id, activity, timestamp, resource, team,
channel, direction, line, customer_facing, event_id; other keys become event
attributes, ``customer`` and ``journey`` also resolve the case's customer and
journey). It never commits: the caller's unit of work holds the whole import,
so a failure leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from servicepulse.cases import facts_store, ingest
from servicepulse.cases.ingest import IngestSummary
from servicepulse.invitations import on_events as invitations_on_events
from servicepulse.jobs.queue import enqueue_rows, job_row
from servicepulse.journeys import assign_moments, load_rules
from servicepulse.kernels.eventlog import EventLogError, FactsConfig, OpeningHours, RowError
from servicepulse.kernels.eventlog.errors import raise_row_errors
from servicepulse.kernels.eventlog.schema import COLUMNS, empty_frame, normalise
from servicepulse.kernels.eventlog.timestamps import DEFAULT_TZ
from servicepulse.models import utcnow

Progress = Callable[[str, int, int], None]
# Later domains hear of new events through jobs queued by kind name (cases may not import them):
# expectations.on_events recognises promises made in the events and decides kept/broken.
EXPECTATIONS_JOB = "expectations.on_events"
JOB_CASES = 5_000  # case ids per job: a large import becomes several bounded jobs
MAX_FIELD = {"case_id": 100, "event_id": 120, "activity": 200, "channel": 30, "resource": 200, "team": 200}
MAX_CUSTOMER = 100  # the customers' external id column
# An event more than this ahead of the clock is refused (clocks of source systems drift a little; a
# timestamp a year ahead is a typing error), as response validation does for submitted_at.
FUTURE_TOLERANCE = pd.Timedelta(hours=24)

__all__ = ["ingest_events", "records_frame", "IngestSummary", "EventLogError"]


def records_frame(records: Mapping[str, Any] | list, *, mapping: Mapping[str, str] | None = None,
                  default_tz: str = DEFAULT_TZ, source: str = "request") -> pd.DataFrame:
    """API records (one dict or a list of dicts) -> the normalised frame; items numbered from 0."""
    items = [records] if isinstance(records, Mapping) else list(records)
    bad = [i for i, r in enumerate(items) if not isinstance(r, Mapping)]
    if bad:
        raise EventLogError(f"{source}: {len(bad)} item(s) are not JSON objects; nothing was stored",
                            [RowError(i, "-", None, "not a JSON object", "item") for i in bad[:100]], len(bad))
    if not items:
        return empty_frame()
    # object columns: a lone surrogate from JSON must reach the schema's check as a bad value (an Arrow-backed
    # string column would refuse to hold it and answer 500)
    raw = pd.DataFrame(items, dtype=object)
    return normalise(raw, np.arange(len(items)), mapping, source, unit="item", default_tz=default_tz)


def _check_values(frame: pd.DataFrame, source: str, now: pd.Timestamp | None = None) -> None:
    """Values the database would refuse or that cannot be true: a clear row error instead of a database
    error or a silent mistake. Texts longer than their column (the same on both databases: SQLite would
    store them), customer ids longer than theirs, timestamps in the future."""
    errors, total = [], 0
    unit = "item" if source == "request" else "row"

    def refuse(mask: np.ndarray, field: str, message: str) -> None:
        nonlocal total
        bad = np.flatnonzero(mask)
        total += len(bad)
        errors.extend(RowError(int(frame["row"].iloc[i]), field, None, message, unit) for i in bad[:100])

    for field, limit in MAX_FIELD.items():
        lengths = frame[field].str.len()
        refuse((lengths > limit).to_numpy(dtype=bool, na_value=False), field,
               f"{field} is longer than {limit} characters")
    attributes = frame["attributes"].to_numpy(dtype=object)
    for key in ingest.CUSTOMER_KEYS:
        long = [isinstance(a, dict) and len(str(a.get(key) or "")) > MAX_CUSTOMER for a in attributes]
        refuse(np.array(long, dtype=bool), key, f"{key} is longer than {MAX_CUSTOMER} characters")
    latest = (now if now is not None else pd.Timestamp.now(tz="UTC")) + FUTURE_TOLERANCE
    refuse((frame["timestamp"] > latest).to_numpy(dtype=bool, na_value=False), "timestamp",
           f"timestamp is in the future (after {latest:%Y-%m-%d %H:%M} UTC)")
    raise_row_errors(errors, total, source)


def ingest_events(session: Session, frame_or_records, *, mapping: Mapping[str, str] | None = None,
                  default_tz: str = DEFAULT_TZ, source: str = "events", progress: Progress | None = None,
                  calendar: OpeningHours | None = None, config: FactsConfig | None = None,
                  notify: bool = True) -> IngestSummary:
    """Store events (idempotent by external id), create/update their cases, refresh the touched
    cases' facts and tell the survey triggers and the expectations domain (``notify``).
    Raises `EventLogError` for bad input."""
    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    def report(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, done, total)

    if isinstance(frame_or_records, pd.DataFrame):
        frame = frame_or_records
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"event frame lacks column(s) {', '.join(missing)}; read it with read_event_log")
    else:
        frame = records_frame(frame_or_records, mapping=mapping, default_tz=default_tz, source=source)
    _check_values(frame, source)
    summary = IngestSummary(received=len(frame))
    if frame.empty:
        return summary
    frame = frame.reset_index(drop=True)
    external = ingest.event_external_ids(frame)
    dup = external.duplicated(keep="first").to_numpy()
    if dup.any():
        frame, external = frame[~dup].reset_index(drop=True), external[~dup].reset_index(drop=True)
    lap("prepare")

    team_ids, aliases = ingest.resolve_teams(session, frame["team"], summary)
    moment_ids = assign_moments(frame["activity"], frame["channel"], frame["team"], load_rules(session), aliases)
    known = ingest.known_cases(session, frame)
    new_case = ~frame["case_id"].isin(list(known)).to_numpy()
    # a new case's whole history is in the batch: facts and case row from memory
    fresh = frame[new_case].assign(team_id=team_ids[new_case])
    fresh_facts = facts_store.batch_facts(fresh, calendar=calendar, config=config)
    created = ingest.create_cases(session, frame, moment_ids, facts_store.case_fields(fresh_facts, fresh), summary)
    case_ids = frame["case_id"].map(known | created)
    lap("cases")
    report("events", 0, len(frame))
    summary.stored, complete = ingest.write_events(session, frame, case_ids, team_ids, moment_ids, external, new_case,
                                                   progress=lambda done: report("events", done, len(frame)))
    summary.duplicates = summary.received - summary.stored
    lap("events")

    report("facts", 0, 1)
    again = set(known.values())
    if complete:
        fresh_facts.index = pd.Index([created[c] for c in fresh_facts.index], name="case_id").astype(str)
        facts_store.store(session, fresh_facts, existing=set())
    else:  # an event of a new case was a stored id after all: recompute from what was stored
        again |= set(created.values())
    facts_store.recompute_all(session, sorted(again), calendar=calendar, config=config)
    report("facts", 1, 1)
    summary.case_ids = sorted(again | set(created.values()))
    summary.cases_touched = len(summary.case_ids)
    lap("facts")
    if notify:
        _notify(session, summary.case_ids)
    summary.seconds = seconds
    return summary


def _notify(session: Session, case_ids: list[int]) -> None:
    """Tell the domains that react to new events, in this import's unit of work (so only a
    committed import is acted on): survey triggers, and the expectations job by kind name."""
    ids = [int(i) for i in case_ids]  # plain ints: the job payload is JSON
    if not ids:
        return
    invitations_on_events(session, ids)
    now = utcnow()
    enqueue_rows(session, [job_row(EXPECTATIONS_JOB, {"case_ids": ids[i:i + JOB_CASES]}, now)
                           for i in range(0, len(ids), JOB_CASES)])
