"""Small builders for expectation tests: cases through the real ingestion service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(case: str, hours: float, activity: str, *, direction: str | None = None, facing: bool = False,
          team: str | None = "Back office", channel: str | None = None, **extra) -> dict:
    record = {"case_id": case, "activity": activity, "timestamp": at(hours).isoformat(), "direction": direction,
              "customer_facing": facing, "team": team, "channel": channel,
              # every record carries an attribute: ingestion currently trips over events without any
              "origin": "test", **extra}
    return {k: v for k, v in record.items() if v is not None}


def ingest(engine, records: list[dict]) -> None:
    with UnitOfWork(engine) as session:
        ingest_events(session, records, notify=False)


def closed_cases(prefix: str, n: int, first_hour: float, spacing: float, slow: float, seed: int) -> list[dict]:
    """Closed cases of four events; ``slow`` multiplies the two waits."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        start = first_hour + spacing * i
        wait, close = slow * float(rng.uniform(2, 30)), slow * float(rng.uniform(1, 20))
        records += [
            event(f"{prefix}{i}", start, "Ticket opened", direction="inbound", facing=True, team="Front office"),
            event(f"{prefix}{i}", start + 1, "Diagnosis"),
            event(f"{prefix}{i}", start + 1 + wait, "Customer informed", direction="outbound", facing=True),
            event(f"{prefix}{i}", start + 2 + wait + close, "Case closed"),
        ]
    return records
