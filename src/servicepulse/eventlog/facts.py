"""Per-case effort facts from a normalised event frame, fully vectorised.

``case_facts(events, calendar, config)`` returns one row per case (index
``case_id``, sorted) with these columns:

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


def _sorted_values(df: pd.DataFrame, name: str, order: np.ndarray) -> np.ndarray:
    """A text column in case order as an object array (None where missing)."""
    if name not in df.columns:
        return np.full(len(order), None, dtype=object)
    arr = df[name].to_numpy(dtype=object)[order]
    return np.where(pd.isna(arr), None, arr)


def _matches(o: CaseOrder, pattern: str) -> np.ndarray:
    """Regex test on the distinct activity names only, mapped to the events."""
    rx = re.compile(pattern, re.IGNORECASE)
    hit = np.array([bool(rx.search(str(n))) for n in o.activities], dtype=bool)
    return hit[o.activity] if len(o.activity) else np.zeros(0, dtype=bool)


def _per_case(o: CaseOrder, mask_or_weights: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """Sum per case of values given at sorted positions ``at`` (all if None)."""
    cases = o.case if at is None else o.case[at]
    return np.bincount(cases, weights=mask_or_weights, minlength=o.n_cases)


def _changes(o: CaseOrder, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Among events where the value is present: their positions, for each
    consecutive pair whether both are in the same case, and the values.
    Plain element comparisons; no hashing of every value."""
    idx = np.flatnonzero(values != None)  # noqa: E711 (element-wise)
    same = o.case[idx][1:] == o.case[idx][:-1]
    return idx, same, values[idx]


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
    n = o.n_cases
    ts = o.ts
    same_next = ~o.last  # event i and i+1 belong to the same case
    closing = _matches(o, config.closing_pattern)
    waiting = _matches(o, config.waiting_pattern) & ~closing
    inbound = _sorted_values(events, "direction", o.order) == "inbound"
    if "customer_facing" in events.columns:
        customer_facing = events["customer_facing"].to_numpy(dtype=bool, na_value=False)[o.order]
    else:
        customer_facing = np.zeros(len(ts), dtype=bool)
    last_idx = np.flatnonzero(o.last)

    out: dict[str, np.ndarray] = {}
    out["events"] = np.bincount(o.case, minlength=n)
    start_us, end_us = ts[o.starts], ts[last_idx]
    out["started_at"] = start_us
    out["ended_at"] = end_us
    out["throughput_days"] = (end_us - start_us) / US_PER_DAY

    # inbound contacts, repeats, after-hours, channel switches
    ib = np.flatnonzero(inbound)
    ib_case, ib_ts = o.case[ib], ts[ib]
    out["inbound_contacts"] = np.bincount(ib_case, minlength=n)
    window = config.repeat_window_days * US_PER_DAY
    repeat = (ib_case[1:] == ib_case[:-1]) & (ib_ts[1:] - ib_ts[:-1] <= window)
    out["repeat_contacts"] = np.bincount(ib_case[1:][repeat], minlength=n)
    if len(ib):
        outside = ~calendar.is_open(pd.DatetimeIndex(ib_ts.astype("datetime64[us]")).tz_localize("UTC"))
    else:
        outside = np.zeros(0, dtype=bool)
    out["after_hours_contacts"] = np.bincount(ib_case[outside], minlength=n)
    channel = _sorted_values(events, "channel", o.order)
    idx, same, vals = _changes(o, np.where(inbound, channel, None))
    switch = same & (vals[1:] != vals[:-1])
    out["channel_switches"] = np.bincount(o.case[idx][1:][switch], minlength=n)

    # handoffs and ping-pong between teams
    idx, same, vals = _changes(o, _sorted_values(events, "team", o.order))
    change = same & (vals[1:] != vals[:-1])
    out["handoffs"] = np.bincount(o.case[idx][1:][change], minlength=n)
    run_start = np.concatenate(([True], ~same | change)) if len(idx) else np.zeros(0, dtype=bool)
    # only one value per team run is hashed
    run_case = o.case[idx][run_start]
    run_team = pd.factorize(vals[run_start])[0]
    revisit = pd.Series(run_case.astype(np.int64) * (run_team.max(initial=0) + 1) + run_team).duplicated()
    out["ping_pong"] = np.bincount(run_case[revisit.to_numpy()], minlength=n)

    front, back = "front", "back"
    idx, same, vals = _changes(o, _sorted_values(events, "line", o.order))
    f2b = same & (vals[:-1] == front) & (vals[1:] == back)
    b2f = same & (vals[:-1] == back) & (vals[1:] == front)
    out["front_to_back"] = np.bincount(o.case[idx][1:][f2b], minlength=n)
    out["back_to_front"] = np.bincount(o.case[idx][1:][b2f], minlength=n)

    # closure and reopening
    reopen = np.zeros(len(ts), dtype=bool)
    reopen[1:] = ~o.first[1:] & closing[:-1] & ~closing[1:]
    out["reopenings"] = np.bincount(o.case, weights=reopen, minlength=n).astype(np.int64)
    out["closed"] = closing[last_idx]
    out["first_time_right"] = out["closed"] & (out["inbound_contacts"] == 1) & (out["reopenings"] == 0)

    # time after each event until the next one of its case (0 for the last,
    # or up to as_of for a case still open)
    gap = np.zeros(len(ts), dtype=np.float64)
    gap[:-1] = np.where(same_next[:-1], ts[1:] - ts[:-1], 0)
    if config.as_of is not None:
        as_of = pd.Timestamp(config.as_of)
        if as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        as_of_us = as_of.value // 1_000  # .value is always nanoseconds
        tail = last_idx[~closing[last_idx]]
        gap[tail] = np.maximum(as_of_us - ts[tail], 0)
    out["closed_hours"] = np.bincount(o.case, weights=np.where(closing, gap, 0), minlength=n) / US_PER_HOUR
    out["waiting_on_customer_hours"] = np.bincount(o.case, weights=np.where(waiting, gap, 0), minlength=n) / US_PER_HOUR
    us_gap = np.where(~closing & ~waiting, gap, 0)
    out["waiting_on_us_hours"] = np.bincount(o.case, weights=us_gap, minlength=n) / US_PER_HOUR

    # dark periods: open time summed in stretches that restart at case start,
    # customer-facing events and reopenings; closed time never counts
    boundary = o.first | customer_facing | reopen
    segment = np.cumsum(boundary) - 1
    open_gap = np.where(closing, 0, gap)
    seg_sum = np.bincount(segment, weights=open_gap)
    seg_case = o.case[boundary]
    first_seg = np.flatnonzero(np.concatenate(([True], seg_case[1:] != seg_case[:-1])))
    out["dark_period_hours"] = np.maximum.reduceat(seg_sum, first_seg) / US_PER_HOUR

    frame = pd.DataFrame(out, index=pd.Index(o.cases, name="case_id", dtype="str"))
    for col in ("started_at", "ended_at"):
        frame[col] = pd.to_datetime(frame[col].to_numpy().astype("datetime64[us]")).tz_localize("UTC")
    counts = [c for c in FACT_COLUMNS if c not in ("started_at", "ended_at", "throughput_days", "closed",
                                                   "first_time_right") and not c.endswith("_hours")]
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
