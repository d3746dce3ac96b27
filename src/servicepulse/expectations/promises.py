"""Promises to the customer: where they come from and whether they were kept.

A promise is *kept* by the first qualifying event after it was made, if that
event happens no later than ``due_at``:

- callback / reply_by: an outbound, customer-facing event by a person's team
  (automatic status messages have no team and do not count), by the promised
  team when the promise names one;
- appointment: an outbound, customer-facing event by the promised team (the
  visit), not before the window opens;
- resolved_by: an event that closes the case (the event-log closing pattern).

It is *broken* once ``due_at`` has passed without such an event, and *open*
before that. A promise delivered late stays broken: the customer waited anyway.
Only events that happened by ``now`` count, so evaluation can be replayed at
any moment (tests control the clock).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from servicepulse.cases import load_events
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.kernels.eventlog.facts import DEFAULT_CLOSING
from servicepulse.models import Case, CaseEvent, Promise
from servicepulse.models.cases import PROMISE_KINDS

CLOSING = re.compile(DEFAULT_CLOSING, re.IGNORECASE)
CHUNK = 500


@dataclass(frozen=True)
class PromiseEventRule:
    """An activity (case-insensitive, exact) that makes a promise of ``kind``.

    The due time comes from the event's ``due_at`` attribute (ISO 8601 with an
    offset) or, without one, ``default_hours`` after the event; a rule without
    a default needs the attribute.
    """

    activity: str
    kind: str
    default_hours: float | None = None


DEFAULT_EVENT_RULES: tuple[PromiseEventRule, ...] = (
    PromiseEventRule("Call-back promised", "callback", 24.0),
    PromiseEventRule("Terugbelafspraak gemaakt", "callback", 24.0),
    PromiseEventRule("Reply promised", "reply_by", 48.0),
    PromiseEventRule("Appointment promised", "appointment"),
    PromiseEventRule("Resolution date promised", "resolved_by"),
)
DUE_KEYS = ("due_at", "due", "promise_due")
WINDOW_KEYS = ("window_start", "promise_window_start")


@dataclass
class EvaluationSummary:
    checked: int = 0
    kept: int = 0
    broken: int = 0
    still_open: int = 0
    changed_ids: list[int] = field(default_factory=list)


def _aware(value: Any, field_name: str) -> datetime:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ValidationFailed(f"{field_name}: {value!r} is not a date and time",
                               [(field_name, "not a date and time")]) from None
    if stamp is pd.NaT:
        raise ValidationFailed(f"{field_name} is missing", [(field_name, "required")])
    if stamp.tzinfo is None:
        raise ValidationFailed(f"{field_name}: {value!r} has no timezone offset",
                               [(field_name, "give a timezone offset, e.g. +01:00")])
    try:
        return stamp.tz_convert("UTC").to_pydatetime()
    except (ValueError, OverflowError):  # 9999-12-31T23:59-01:00 is in the year 10000 in UTC
        raise ValidationFailed(f"{field_name}: {value!r} is out of range", [(field_name, "out of range")]) from None


def add_promise(session: Session, case_external_id: str, *, kind: str, due_at: Any, made_at: Any,
                window_start: Any = None, external_id: str | None = None, team_id: int | None = None,
                source: str = "api") -> Promise:
    """Record one promise on a case (API, CSV, a person). Idempotent by ``external_id``."""
    problems = []
    if kind not in PROMISE_KINDS:
        problems.append(("kind", f"{kind!r} is not one of {', '.join(PROMISE_KINDS)}"))
    case = session.scalar(select(Case).where(Case.external_id == case_external_id))
    if case is None:
        raise NotFound(f"there is no case {case_external_id!r}")
    try:
        due = _aware(due_at, "due_at")
        made = _aware(made_at, "made_at")
        window = _aware(window_start, "window_start") if window_start not in (None, "") else None
    except ValidationFailed as exc:
        problems += exc.problems
        due = made = window = None
    if due is not None and made is not None and due < made:
        problems.append(("due_at", "the promise is due before it was made"))
    if window is not None and due is not None and window > due:
        problems.append(("window_start", "the window starts after it ends (due_at)"))
    if problems:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in problems), problems)
    if external_id:
        existing = session.scalar(select(Promise).where(Promise.case_id == case.id,
                                                        Promise.external_id == external_id))
        if existing is not None:
            return existing
    promise = Promise(case_id=case.id, external_id=external_id, kind=kind, made_at=made, due_at=due,
                      window_start=window, status="open", made_by_team_id=team_id, source=source)
    session.add(promise)
    session.flush()
    return promise


CSV_COLUMNS = ("case_id", "kind", "made_at", "due_at")


def import_promises_csv(session: Session, frame: pd.DataFrame) -> int:
    """Promises from a CSV table (columns case_id, kind, made_at, due_at; optional
    window_start, promise_id). All rows are checked first; one bad row stops the import
    with its row number (1 = first data row)."""
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationFailed(f"the CSV lacks the column(s) {', '.join(missing)}",
                               [(c, "required column") for c in missing])
    problems, added = [], 0
    for position, row in enumerate(frame.to_dict("records"), start=1):
        try:
            with session.begin_nested():
                add_promise(session, str(row["case_id"]), kind=str(row["kind"]).strip(), due_at=row["due_at"],
                            made_at=row["made_at"], window_start=_blank(row.get("window_start")),
                            external_id=_blank(row.get("promise_id")), source="csv")
                added += 1
        except (ValidationFailed, NotFound) as exc:
            problems.append((f"row {position}", str(exc)))
    if problems:
        raise ValidationFailed("; ".join(f"{r}: {m}" for r, m in problems[:20]), problems)
    return added


def _blank(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return str(value)


def recognise_promises(session: Session, case_ids: Iterable[int] | None = None,
                       rules: Iterable[PromiseEventRule] = DEFAULT_EVENT_RULES) -> int:
    """Create promises from promise-making events (idempotent: one promise per event).

    Returns the number of promises created. An event whose due time cannot be
    read is skipped (its case keeps no promise rather than a wrong one).
    """
    by_name = {r.activity.lower(): r for r in rules}
    stmt = select(CaseEvent).where(func.lower(CaseEvent.activity).in_(list(by_name)))
    ids = list(case_ids) if case_ids is not None else None
    created = 0
    for part in ([ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] if ids is not None else [None]):
        query = stmt if part is None else stmt.where(CaseEvent.case_id.in_(part))
        events = list(session.scalars(query))
        made = _made_from_events(session, sorted({e.case_id for e in events}))
        for event in events:
            rule = by_name[event.activity.lower()]
            key = f"event:{event.external_id or event.id}"
            if (event.case_id, key) in made:
                continue
            attributes = event.attributes or {}
            due = _first_time(attributes, DUE_KEYS)
            if due is None and rule.default_hours is not None:
                due = event.occurred_at + timedelta(hours=rule.default_hours)
            if due is None or due < event.occurred_at:
                continue
            session.add(Promise(case_id=event.case_id, external_id=key, kind=rule.kind, made_at=event.occurred_at,
                                due_at=due, window_start=_first_time(attributes, WINDOW_KEYS), status="open",
                                made_by_team_id=event.team_id, source="event"))
            created += 1
    session.flush()
    return created


def _made_from_events(session: Session, case_ids: list[int]) -> set[tuple[int, str]]:
    """(case id, external id) of the promises these cases already have from events: one query
    per chunk rather than one per event, as an import's job may see thousands of them."""
    made: set[tuple[int, str]] = set()
    for i in range(0, len(case_ids), CHUNK):
        made.update((case_id, key) for case_id, key in session.execute(select(Promise.case_id, Promise.external_id)
                    .where(Promise.case_id.in_(case_ids[i:i + CHUNK]), Promise.external_id.like("event:%"))))
    return made


def _first_time(attributes: dict, keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        if attributes.get(key):
            try:
                return _aware(attributes[key], key)
            except ValidationFailed:
                return None
    return None


def case_events_frame(session: Session, cases: Iterable[int] | Select, now: datetime) -> pd.DataFrame:
    """The events of these cases (ids or a select of ids) up to ``now``, in stored order, with a
    ``closes`` flag; shared by promise evaluation and the signal rules. Columns: case_id (int),
    occurred_at, activity, direction, customer_facing (bool), team_id (Int64), closes."""
    events = load_events(session, cases, until=now)
    return pd.DataFrame({
        "case_id": events["case_id"].astype("int64"),
        "occurred_at": events["timestamp"],
        "activity": events["activity"],
        "direction": events["direction"],
        "customer_facing": events["customer_facing"].fillna(False).astype(bool),
        "team_id": events["team_id"],
        "closes": events["activity"].map(lambda a: CLOSING.search(a) is not None).astype(bool),
    })


def keeper_times(promises: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Time of the first event keeping each promise (NaT when none), indexed like ``promises``.

    ``promises``: promise_id, case_id, kind, made_at, window_start, team_id;
    ``events``: case_id, occurred_at, direction, customer_facing, team_id, closes.
    """
    pairs = promises.reset_index(names="_row").merge(events, on="case_id", suffixes=("", "_event"))
    after = pairs["occurred_at"] > pairs["made_at"]
    closes = pairs["closes"].to_numpy(dtype=bool)
    by_person = ((pairs["direction"] == "outbound") & pairs["customer_facing"].astype(bool)
                 & pairs["team_id_event"].notna())
    same_team = pairs["team_id"].isna() | (pairs["team_id"] == pairs["team_id_event"])
    in_window = pairs["window_start"].isna() | (pairs["occurred_at"] >= pairs["window_start"])
    resolved = pairs["kind"] == "resolved_by"
    keeps = after & ((resolved & closes) | (~resolved & by_person & same_team
                                            & ((pairs["kind"] != "appointment") | in_window)))
    first = pairs[keeps.to_numpy()].groupby("_row")["occurred_at"].min()
    return first.reindex(range(len(promises))).set_axis(promises.index)


def evaluate_promises(session: Session, now: datetime, *, recheck: bool = False,
                      case_ids: Iterable[int] | None = None) -> EvaluationSummary:
    """Decide kept/broken for open promises as of ``now`` (all promises with ``recheck``)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stmt = select(Promise).where(Promise.made_at <= now)
    if not recheck:
        stmt = stmt.where(Promise.status == "open")
    if case_ids is not None:
        stmt = stmt.where(Promise.case_id.in_(list(case_ids)))
    promises = list(session.scalars(stmt))
    summary = EvaluationSummary(checked=len(promises))
    if not promises:
        return summary
    table = pd.DataFrame({
        "case_id": [p.case_id for p in promises], "kind": [p.kind for p in promises],
        "made_at": pd.to_datetime([p.made_at for p in promises], utc=True),
        "window_start": pd.to_datetime([p.window_start for p in promises], utc=True),
        "team_id": pd.array([p.made_by_team_id for p in promises], dtype="Int64"),
    })
    events = case_events_frame(session, sorted(set(table["case_id"])), now)
    kept = keeper_times(table, events)
    for position, promise in enumerate(promises):
        kept_at = kept.iloc[position]
        if not pd.isna(kept_at) and kept_at.to_pydatetime() <= promise.due_at:
            new = ("kept", kept_at.to_pydatetime(), None)
        elif promise.due_at <= now:
            new = ("broken", None, promise.due_at)
        else:
            new = ("open", None, None)
        if (promise.status, promise.kept_at, promise.broken_at) != new:
            promise.status, promise.kept_at, promise.broken_at = new
            summary.changed_ids.append(promise.id)
        summary.kept += new[0] == "kept"
        summary.broken += new[0] == "broken"
        summary.still_open += new[0] == "open"
    session.flush()
    return summary


def on_events(session: Session, case_ids: list[int], now: datetime | None = None) -> None:
    """New events arrived for these cases (the job the event import queues): recognise the
    promises they make, and with ``now`` decide the touched cases' open promises."""
    recognise_promises(session, case_ids)
    if now is not None:
        evaluate_promises(session, now, case_ids=case_ids)
