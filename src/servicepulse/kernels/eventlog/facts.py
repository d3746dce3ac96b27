"""Per-case effort facts from a normalised event frame, fully vectorised.

``case_facts(events, calendar, config)`` returns one row per case (index
``case_id``, cases in order of first appearance) with these columns:

=========================  =====================================================
events                     number of events
started_at, ended_at       first and last event (UTC)
throughput_days            last minus first event, in days
inbound_contacts           events with direction == 'inbound'
repeat_contacts            inbound contacts within ``repeat_window_days`` after
                           the previous inbound contact of the same case
after_hours_contacts       inbound contacts outside the opening-hours calendar
channel_switches           channel changes between consecutive inbound contacts
                           (contacts without a channel are skipped)
handoffs                   team changes between consecutive events that have a
                           team
front_to_back,             line changes between consecutive events that have a
back_to_front              line ('front' -> 'back' and 'back' -> 'front')
ping_pong                  moves to a team the case visited before (not the
                           team it comes from: A -> B -> A counts once)
dark_period_hours          longest stretch of *open* time without a
                           customer-facing event; a stretch starts at the case
                           start, a customer-facing event or a reopening, and
                           ends at a customer-facing event, a closure or the end
closed                     the last event is a closing activity
reopenings                 events that follow a closing event and do not close
                           the case themselves (Resolved -> Closed is not one)
first_time_right           closed, exactly one inbound contact, no reopening
waiting_on_customer_hours  time from a waiting-on-customer event to the next
closed_hours               time from a closing event to the next (the case was
                           closed, e.g. until a reopening)
waiting_on_us_hours        all other time between the first and last event
=========================  =====================================================

Closing and waiting activities are regular expressions matched
case-insensitively against the activity name (`FactsConfig`). With
``config.as_of`` set, a case that is not closed stays open until ``as_of``:
the tail after its last event counts in the dark period and the waiting times
(throughput stays last minus first event, as in pm4py).

Incremental contract (for the database layer): the facts of a case depend only
on that case's own events (plus calendar and config), so after new events
arrive only the touched cases need recomputing. `update_case_facts` takes the
stored facts frame (the whole state; nothing else is kept), the batch, and a
``load_history(case_ids)`` callable that returns the *complete* current event
history of those cases in the normalised layout, including the batch if it is
already stored (events are de-duplicated on ``event_id`` when present). Put a
stable insertion sequence in ``file_order``: it breaks timestamp ties. Do not
use ``as_of`` with stored facts, or they go stale as time passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import OpeningHours
from .ordering import CaseOrder, case_order

US_PER_HOUR = 3_600 * 1_000_000
US_PER_DAY = 24 * US_PER_HOUR

DEFAULT_CLOSING = r"\b(close|closed|resolved|afgesloten)\b"
DEFAULT_WAITING = r"^\s*(wait|waiting|waiting (on|for) (the )?customer|wacht op klant|wachten op klant)\s*$"

FACT_COLUMNS = (
    "events", "started_at", "ended_at", "throughput_days",
    "inbound_contacts", "repeat_contacts", "after_hours_contacts", "channel_switches",
    "handoffs", "front_to_back", "back_to_front", "ping_pong",
    "dark_period_hours", "closed", "reopenings", "first_time_right",
    "waiting_on_customer_hours", "closed_hours", "waiting_on_us_hours",
)


@dataclass(frozen=True)
class FactsConfig:
    """What counts as what. Patterns are case-insensitive regular expressions."""

    repeat_window_days: float = 7.0
    closing_pattern: str = DEFAULT_CLOSING
    waiting_pattern: str = DEFAULT_WAITING
    as_of: pd.Timestamp | None = None


def _codes(df: pd.DataFrame, name: str, order: np.ndarray) -> np.ndarray:
    """A text column in case order as integer codes (-1 where missing)."""
    if name not in df.columns:
        return np.full(len(order), -1, dtype=np.int64)
    return pd.factorize(df[name].to_numpy(dtype=object))[0][order]


def _is(df: pd.DataFrame, name: str, value: str, order: np.ndarray) -> np.ndarray:
    """Boolean array in case order: does the column equal ``value``?"""
    if name not in df.columns:
        return np.zeros(len(order), dtype=bool)
    return (df[name].to_numpy(dtype=object) == value)[order]


def _matches(o: CaseOrder, pattern: str) -> np.ndarray:
    """Regex test on the distinct activity names only, mapped to the events."""
    rx = re.compile(pattern, re.IGNORECASE)
    hit = np.array([bool(rx.search(str(n))) for n in o.activities], dtype=bool)
    return hit[o.activity] if len(o.activity) else np.zeros(0, dtype=bool)


def _changes(o: CaseOrder, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Among events where the coded value is present: their positions, for
    each consecutive pair whether both are in the same case, and the codes."""
    idx = np.flatnonzero(codes >= 0)
    same = o.case[idx][1:] == o.case[idx][:-1]
    return idx, same, codes[idx]


def case_facts(
    events: pd.DataFrame,
    calendar: OpeningHours | None = None,
    config: FactsConfig | None = None,
) -> pd.DataFrame:
    """Effort facts per case (see the module docstring for each column)."""
    calendar = calendar or OpeningHours()
    config = config or FactsConfig()
    if len(events) == 0:
        return _empty()
    o = case_order(events)
    closing = _matches(o, config.closing_pattern)
    waiting = _matches(o, config.waiting_pattern) & ~closing
    last_idx = np.flatnonzero(o.last)

    out: dict[str, np.ndarray] = {"events": np.bincount(o.case, minlength=o.n_cases)}
    out["started_at"], out["ended_at"] = o.ts[o.starts], o.ts[last_idx]
    out["throughput_days"] = (out["ended_at"] - out["started_at"]) / US_PER_DAY
    out.update(_contacts(o, events, calendar, config))
    out.update(_handoffs(o, events))
    reopen = np.zeros(len(o.ts), dtype=bool)
    reopen[1:] = ~o.first[1:] & closing[:-1] & ~closing[1:]
    out["reopenings"] = np.bincount(o.case, weights=reopen, minlength=o.n_cases).astype(np.int64)
    out["closed"] = closing[last_idx]
    out["first_time_right"] = out["closed"] & (out["inbound_contacts"] == 1) & (out["reopenings"] == 0)
    gap = _gaps(o, closing, last_idx, config.as_of)
    out.update(_waiting(o, gap, closing, waiting))
    out["dark_period_hours"] = _dark_periods(o, events, gap, closing, reopen)
    return _frame(o, out)


def _contacts(o: CaseOrder, events: pd.DataFrame, calendar: OpeningHours, config: FactsConfig) -> dict:
    """Inbound contacts, repeats within the window, after-hours, channel switches."""
    n = o.n_cases
    inbound = _is(events, "direction", "inbound", o.order)
    ib = np.flatnonzero(inbound)
    ib_case, ib_ts = o.case[ib], o.ts[ib]
    repeat = (ib_case[1:] == ib_case[:-1]) & (ib_ts[1:] - ib_ts[:-1] <= config.repeat_window_days * US_PER_DAY)
    outside = ~calendar.is_open(pd.DatetimeIndex(ib_ts.astype("datetime64[us]")).tz_localize("UTC"))
    idx, same, vals = _changes(o, np.where(inbound, _codes(events, "channel", o.order), -1))
    switch = same & (vals[1:] != vals[:-1])
    return {
        "inbound_contacts": np.bincount(ib_case, minlength=n),
        "repeat_contacts": np.bincount(ib_case[1:][repeat], minlength=n),
        "after_hours_contacts": np.bincount(ib_case[outside], minlength=n),
        "channel_switches": np.bincount(o.case[idx][1:][switch], minlength=n),
    }


def _handoffs(o: CaseOrder, events: pd.DataFrame) -> dict:
    """Team changes, returns to an earlier team, front/back line changes."""
    n = o.n_cases
    idx, same, vals = _changes(o, _codes(events, "team", o.order))
    change = same & (vals[1:] != vals[:-1])
    # a team run starts at a case's first team or a change; a run whose
    # (case, team) was seen before in that case is ping-pong
    run_start = np.concatenate(([True], ~same | change)) if len(idx) else np.zeros(0, dtype=bool)
    run_case = o.case[idx][run_start]
    run_team = vals[run_start]
    revisit = pd.Series(run_case.astype(np.int64) * (run_team.max(initial=0) + 1) + run_team).duplicated()
    front, back = _is(events, "line", "front", o.order), _is(events, "line", "back", o.order)
    l_idx, l_same, line = _changes(o, np.where(front, 0, np.where(back, 1, -1)))
    f2b = l_same & (line[:-1] == 0) & (line[1:] == 1)
    b2f = l_same & (line[:-1] == 1) & (line[1:] == 0)
    return {
        "handoffs": np.bincount(o.case[idx][1:][change], minlength=n),
        "front_to_back": np.bincount(o.case[l_idx][1:][f2b], minlength=n),
        "back_to_front": np.bincount(o.case[l_idx][1:][b2f], minlength=n),
        "ping_pong": np.bincount(run_case[revisit.to_numpy()], minlength=n),
    }


def _gaps(o: CaseOrder, closing: np.ndarray, last_idx: np.ndarray, as_of) -> np.ndarray:
    """Microseconds from each event to the next of its case: 0 for the last
    event, or up to ``as_of`` when the case is still open."""
    gap = np.zeros(len(o.ts), dtype=np.float64)
    gap[:-1] = np.where(~o.last[:-1], o.ts[1:] - o.ts[:-1], 0)
    if as_of is not None:
        as_of = pd.Timestamp(as_of)
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        tail = last_idx[~closing[last_idx]]
        gap[tail] = np.maximum(as_of.value // 1_000 - o.ts[tail], 0)  # .value is nanoseconds
    return gap


def _waiting(o: CaseOrder, gap: np.ndarray, closing: np.ndarray, waiting: np.ndarray) -> dict:
    """Each gap belongs to the state the event before it put the case in."""
    def hours(mask):
        return np.bincount(o.case, weights=np.where(mask, gap, 0), minlength=o.n_cases) / US_PER_HOUR

    return {
        "waiting_on_customer_hours": hours(waiting),
        "closed_hours": hours(closing),
        "waiting_on_us_hours": hours(~closing & ~waiting),
    }


def _dark_periods(o: CaseOrder, events: pd.DataFrame, gap: np.ndarray, closing: np.ndarray,
                  reopen: np.ndarray) -> np.ndarray:
    """Longest open stretch per case without a customer-facing event: open
    time is summed in stretches that restart at the case start, at each
    customer-facing event and at each reopening; closed time never counts."""
    if "customer_facing" in events.columns:
        facing = events["customer_facing"].astype("boolean").to_numpy(dtype=bool, na_value=False)[o.order]
    else:
        facing = np.zeros(len(o.ts), dtype=bool)
    boundary = o.first | facing | reopen
    stretch_sum = np.bincount(np.cumsum(boundary) - 1, weights=np.where(closing, 0, gap))
    stretch_case = o.case[boundary]
    first_of_case = np.flatnonzero(np.concatenate(([True], stretch_case[1:] != stretch_case[:-1])))
    return np.maximum.reduceat(stretch_sum, first_of_case) / US_PER_HOUR


def _frame(o: CaseOrder, out: dict) -> pd.DataFrame:
    frame = pd.DataFrame(out, index=pd.Index(o.cases, name="case_id", dtype="str"))
    for col in ("started_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col].to_numpy().astype("datetime64[us]")).tz_localize("UTC")
    not_counts = {"throughput_days", "started_at", "ended_at", "closed", "first_time_right"}
    counts = [c for c in FACT_COLUMNS if c not in not_counts and not c.endswith("_hours")]
    frame[counts] = frame[counts].astype(np.int64)
    frame[["closed", "first_time_right"]] = frame[["closed", "first_time_right"]].astype(bool)
    return frame[list(FACT_COLUMNS)]


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="int64") for c in FACT_COLUMNS})
    for c in ("started_at", "ended_at"):
        frame[c] = pd.Series(dtype="datetime64[us, UTC]")
    for c in ("throughput_days", "dark_period_hours", "waiting_on_customer_hours", "closed_hours",
              "waiting_on_us_hours"):
        frame[c] = pd.Series(dtype="float64")
    for c in ("closed", "first_time_right"):
        frame[c] = pd.Series(dtype=bool)
    frame.index = pd.Index([], name="case_id", dtype="str")
    return frame


def update_case_facts(
    stored: pd.DataFrame | None,
    batch: pd.DataFrame,
    load_history: Callable[[Sequence[str]], pd.DataFrame] | None = None,
    *,
    calendar: OpeningHours | None = None,
    config: FactsConfig | None = None,
) -> pd.DataFrame:
    """Stored facts with the cases touched by ``batch`` recomputed.

    ``load_history(case_ids)`` must return the complete event history of
    those cases (the batch may or may not be in it; duplicates are dropped on
    ``event_id``). Without it, ``batch`` itself must hold the complete history
    of its cases. Returns the new facts frame (untouched rows first, then the
    recomputed ones; sort it if order matters); ``stored`` is not modified.
    """
    touched = pd.unique(batch["case_id"].astype("str"))
    if load_history is not None:
        history = load_history(list(touched))
        events = pd.concat([history, batch], ignore_index=True) if len(history) else batch
        if "event_id" in events.columns and events["event_id"].notna().any():
            known = events["event_id"].notna()
            dup = events["event_id"].duplicated(keep="first") & known
            events = events[~dup]
    else:
        events = batch
    fresh = case_facts(events.reset_index(drop=True), calendar, config)
    if stored is None or len(stored) == 0:
        return fresh
    kept = stored[~stored.index.isin(fresh.index)]
    return pd.concat([kept, fresh])  # touched cases move to the end: row order carries no meaning
