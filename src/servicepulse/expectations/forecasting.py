"""Resolution forecasts for open cases, from the stored model.

The model (servicepulse.forecast.ResolutionForecaster) is trained on the closed
cases in the database and saved under ``settings.data_dir``. Its remaining time
is counted from a case's *last event*; a person reads the page later, so the
time already passed since that event is subtracted (never below zero) and the
page says so. An open case without a model, or without any event, gets a clear
state ("no model yet", "not enough history") rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from servicepulse.forecast import NotFittedError, ResolutionForecaster, WorkingCalendar, suggest_promise
from servicepulse.models import Case, CaseEvent, Journey, OrgUnit, Promise
from servicepulse.models.expectations import ForecastSnapshot

MODEL_FILE = "models/resolution_forecaster.joblib"
CHUNK = 500
Progress = Callable[[str, int, int], None]


def model_path(data_dir: Path) -> Path:
    return Path(data_dir) / MODEL_FILE


def _event_frame(session: Session, case_ids: list[int], now: datetime | None) -> pd.DataFrame:
    cols = (CaseEvent.case_id, CaseEvent.activity, CaseEvent.occurred_at, CaseEvent.seq, CaseEvent.channel,
            OrgUnit.name, Journey.key)
    frames = [pd.DataFrame(columns=["case_id", "activity", "timestamp", "seq", "channel", "team", "journey"])]
    for i in range(0, len(case_ids), CHUNK):
        stmt = (select(*cols).join(Case, Case.id == CaseEvent.case_id)
                .outerjoin(OrgUnit, OrgUnit.id == CaseEvent.team_id)
                .outerjoin(Journey, Journey.id == Case.journey_id)
                .where(CaseEvent.case_id.in_(case_ids[i:i + CHUNK])))
        if now is not None:
            stmt = stmt.where(CaseEvent.occurred_at <= now)
        frames.append(pd.DataFrame(session.execute(stmt).all(), columns=frames[0].columns))
    events = pd.concat(frames, ignore_index=True)
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True)
    events = events.sort_values(["case_id", "timestamp", "seq"], kind="stable").drop(columns="seq")
    for name in ("team", "channel", "journey"):
        events[name] = events[name].fillna("-").astype(str)
    return events.reset_index(drop=True)


def training_events(session: Session, progress: Progress | None = None) -> pd.DataFrame:
    """Events of the closed cases (the last event of each is its resolution)."""
    ids = list(session.scalars(select(Case.id).where(Case.closed_at.is_not(None)).order_by(Case.id)))
    frames = []
    for i in range(0, len(ids), CHUNK * 4):
        frames.append(_event_frame(session, ids[i:i + CHUNK * 4], None))
        if progress:
            progress("read", min(i + CHUNK * 4, len(ids)), len(ids))
    return pd.concat(frames, ignore_index=True) if frames else _event_frame(session, [], None)


def train(session: Session, path: Path, progress: Progress | None = None, **options) -> ResolutionForecaster:
    """Fit the forecaster on the closed cases in the database and save it at ``path``.

    Raises ValueError (with the forecaster's message) when there is too little history.
    """
    events = training_events(session, progress)
    if progress:
        progress("fit", 0, 1)
    forecaster = ResolutionForecaster(**options).fit(events)
    if progress:
        progress("fit", 1, 1)
    forecaster.save(path)
    return forecaster


def load_forecaster(path: Path) -> ResolutionForecaster | None:
    """The saved model, or None when there is none (or it cannot be read: retrain)."""
    try:
        return ResolutionForecaster.load(path)
    except (FileNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class CaseForecast:
    """A forecast as shown to a person. ``state``: "ok", "no_model", "no_history", "closed"."""

    state: str
    anchor_at: datetime | None = None  # the last event the model counts from
    elapsed_s: float = 0.0  # time passed since then, already subtracted below
    expected_at: datetime | None = None
    lower_at: datetime | None = None
    upper_at: datetime | None = None
    promise_at: datetime | None = None
    remaining_s: float | None = None  # from now, as are the two below
    lower_s: float | None = None
    upper_s: float | None = None
    note: str | None = None  # e.g. activities the model has never seen


def _closed(events: pd.DataFrame) -> bool:
    from servicepulse.expectations.promises import CLOSING

    return bool(len(events)) and CLOSING.search(str(events["activity"].iloc[-1])) is not None


def forecast_cases(session: Session, case_ids: Iterable[int], now: datetime,
                   forecaster: ResolutionForecaster | None,
                   calendar: WorkingCalendar | None = None) -> dict[int, CaseForecast]:
    """Forecasts as of ``now`` (events after ``now`` are not seen)."""
    ids = list(case_ids)
    if forecaster is None:
        return {i: CaseForecast("no_model") for i in ids}
    calendar = calendar or WorkingCalendar()
    events = _event_frame(session, ids, now)
    out = {i: CaseForecast("no_history") for i in ids}
    open_ids = [i for i, g in events.groupby("case_id") if not _closed(g)]
    for i in set(events["case_id"]) - set(open_ids):
        out[int(i)] = CaseForecast("closed")
    prefixes = events[events["case_id"].isin(open_ids)]
    if prefixes.empty:
        return out
    try:
        predicted = forecaster.predict(prefixes)
    except (NotFittedError, ValueError) as exc:
        return {**out, **{int(i): CaseForecast("no_model", note=str(exc)) for i in open_ids}}
    notes = predicted.attrs.get("notes", {})
    anchors = prefixes.groupby("case_id")["timestamp"].max()
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    for case_id, row in predicted.iterrows():
        anchor = anchors.loc[case_id]
        elapsed = max(0.0, (now_ts - anchor).total_seconds())

        def at(seconds: float) -> pd.Timestamp:
            return (now_ts + pd.Timedelta(seconds=max(0.0, float(seconds) - elapsed))).floor("s")

        upper = at(row["upper_s"])
        out[int(case_id)] = CaseForecast(
            "ok", anchor.to_pydatetime(), elapsed, at(row["remaining_s"]).to_pydatetime(),
            at(row["lower_s"]).to_pydatetime(), upper.to_pydatetime(),
            suggest_promise(upper, calendar).tz_convert("UTC").to_pydatetime(),
            *(max(0.0, float(row[c]) - elapsed) for c in ("remaining_s", "lower_s", "upper_s")),
            notes.get(case_id))
    return out


def open_case_ids(session: Session, now: datetime) -> list[int]:
    """Cases with an event by ``now`` that were not closed by then (per the cases table)."""
    stmt = select(Case.id).where((Case.opened_at.is_(None)) | (Case.opened_at <= now),
                                 (Case.closed_at.is_(None)) | (Case.closed_at > now))
    return list(session.scalars(stmt.order_by(Case.id)))


def refresh_snapshots(session: Session, now: datetime, forecaster: ResolutionForecaster | None) -> int:
    """Store the current forecast of every open case (for signals and the dashboard)."""
    if forecaster is None:
        return 0
    ids = open_case_ids(session, now)
    written = 0
    for i in range(0, len(ids), CHUNK * 4):
        part = ids[i:i + CHUNK * 4]
        forecasts = forecast_cases(session, part, now, forecaster)
        session.execute(delete(ForecastSnapshot).where(ForecastSnapshot.case_id.in_(part)))
        for case_id, f in forecasts.items():
            if f.state != "ok":
                continue
            session.add(ForecastSnapshot(case_id=case_id, made_at=now, anchor_at=f.anchor_at,
                                         remaining_s=f.remaining_s, lower_s=f.lower_s, upper_s=f.upper_s,
                                         expected_at=f.expected_at, upper_at=f.upper_at, promise_at=f.promise_at))
            written += 1
        session.flush()
    return written


def open_promise(session: Session, case_id: int) -> Promise | None:
    """The open promise due first on a case (what the forecast is compared with)."""
    return session.scalar(select(Promise).where(Promise.case_id == case_id, Promise.status == "open")
                          .order_by(Promise.due_at).limit(1))
