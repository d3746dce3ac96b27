"""Resolution forecasts for open cases, from the stored model.

The model (servicepulse.kernels.forecast.ResolutionForecaster) is trained on the closed
cases in the database and saved under ``settings.data_dir``. Its remaining time
is counted from a case's *last event*; a person reads the page later, so the
time already passed since that event is subtracted (never below zero) and the
page says so. An open case without a model, or without any event, gets a clear
state ("no model yet", "not enough history") rather than an error.

The 80% interval is recalibrated once a day: before predicting, the forecaster
takes the conformal correction computed from the cases closed before the start
of the day (UTC) - the most recent ones, with the calibration method and window
the model chose on its own hold-out cases at training time
(``forecast.recalibration``, docs/forecast.md). Processes drift; a
correction frozen at training time does not see new closing rules. With too few
recently closed cases the correction of the training run is kept. The day's
correction is computed once (by the periodic job, or else by the first reader of
the day) and kept next to the saved model (``stored_recalibration``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from servicepulse.cases import load_events
from servicepulse.expectations import stored_recalibration
from servicepulse.expectations.promises import CLOSING
from servicepulse.kernels.forecast import NotFittedError, ResolutionForecaster, WorkingCalendar, suggest_promise
from servicepulse.kernels.forecast.recalibration import RecalibrationWindow
from servicepulse.models import Case, CaseEvent, Journey, Promise
from servicepulse.models.expectations import ForecastSnapshot

log = logging.getLogger(__name__)
MODEL_FILE = "models/resolution_forecaster.joblib"
CHUNK = 500
Progress = Callable[[str, int, int], None]


def model_path(data_dir: Path) -> Path:
    return Path(data_dir) / MODEL_FILE


def _event_frame(session: Session, case_ids: list[int], now: datetime | None) -> pd.DataFrame:
    """The forecaster's input: the cases' stored history (up to ``now``) with the journey of each
    case; case_id as the integer database id, missing team / channel / journey as "-"."""
    events = load_events(session, case_ids, until=now)
    ids = events["case_id"].astype("int64")
    journeys = _journey_keys(session, sorted({int(i) for i in ids}))
    frame = pd.DataFrame({"case_id": ids, "activity": events["activity"], "timestamp": events["timestamp"],
                          "channel": events["channel"], "team": events["team"], "journey": ids.map(journeys)})
    for name in ("team", "channel", "journey"):
        frame[name] = frame[name].astype(object).fillna("-").astype(str)
    return frame


def _journey_keys(session: Session, case_ids: list[int]) -> dict[int, str | None]:
    keys: dict[int, str | None] = {}
    for i in range(0, len(case_ids), CHUNK * 10):
        keys.update(session.execute(select(Case.id, Journey.key).outerjoin(Journey, Journey.id == Case.journey_id)
                                    .where(Case.id.in_(case_ids[i:i + CHUNK * 10]))).all())
    return keys


def training_events(session: Session, progress: Progress | None = None, max_cases: int | None = None) -> pd.DataFrame:
    """Events of the closed cases (the last event of each is its resolution); with ``max_cases`` only the
    most recently closed ones (the forecaster learns today's process from them)."""
    stmt = select(Case.id).where(Case.closed_at.is_not(None))
    if max_cases is not None:
        recent = stmt.order_by(Case.closed_at.desc(), Case.id.desc()).limit(max_cases).subquery()
        stmt = select(recent.c.id)
    ids = sorted(session.scalars(stmt))
    frames = []
    for i in range(0, len(ids), CHUNK * 4):
        frames.append(_event_frame(session, ids[i:i + CHUNK * 4], None))
        if progress:
            progress("read", min(i + CHUNK * 4, len(ids)), len(ids))
    return pd.concat(frames, ignore_index=True) if frames else _event_frame(session, [], None)


def train(session: Session, path: Path, progress: Progress | None = None, max_cases: int | None = None,
          **options) -> ResolutionForecaster:
    """Fit the forecaster on the closed cases in the database (the ``max_cases`` most recently closed, if
    given) and save it at ``path``; ``options`` go to `ResolutionForecaster`.

    Raises ValueError (with the forecaster's message) when there is too little history.
    """
    events = training_events(session, progress, max_cases)
    if progress:
        progress("fit", 0, 1)
    # The same fit as `forecast train --evaluate` and bench/forecast_logs.py measure: it
    # chooses the model family, recency weighting and recalibration window on the newest
    # closed cases of this installation.
    forecaster = ResolutionForecaster(**options).fit(
        events, progress=(lambda done, total: progress("fit", done, total)) if progress else None)
    forecaster.save(path)
    return forecaster


def load_forecaster(path: Path) -> ResolutionForecaster | None:
    """The saved model, or None when there is none (or it cannot be read: retrain)."""
    try:
        return ResolutionForecaster.load(path)
    except (FileNotFoundError, ValueError):
        return None


def recalibration_moment(now: datetime) -> pd.Timestamp:
    """The nightly recalibration a forecast made at ``now`` uses: the start of its day (UTC)."""
    return pd.Timestamp(now).tz_convert("UTC").normalize()


def _recent_closed_case_ids(session: Session, before: pd.Timestamp, window: RecalibrationWindow,
                            skip: frozenset) -> list[int]:
    """Cases closed before ``before`` that the window needs, newest first.

    A window of N prefixes needs the newest cases until their prefixes (events - 1
    each) reach N; the cases the quantile models were trained on do not count.
    """
    moment = before.to_pydatetime()
    counts = (select(Case.id, func.count(CaseEvent.id)).join(CaseEvent, CaseEvent.case_id == Case.id)
              .where(Case.closed_at.is_not(None), Case.closed_at < moment)
              .group_by(Case.id, Case.closed_at).order_by(Case.closed_at.desc(), Case.id.desc()))
    if window.days is not None:
        since = (before - pd.Timedelta(days=window.days)).to_pydatetime()
        return [i for i, _ in session.execute(counts.where(Case.closed_at >= since)) if i not in skip]
    ids, prefixes = [], 0
    for case_id, n_events in session.execute(counts.execution_options(yield_per=CHUNK)):
        if case_id in skip or n_events < 2:
            continue
        ids.append(case_id)
        prefixes += n_events - 1
        if prefixes >= window.prefixes:
            break
    return ids


def recalibrate(session: Session, forecaster: ResolutionForecaster, now: datetime,
                window: RecalibrationWindow | None = None, *,
                model_file: Path | None = None) -> ResolutionForecaster:
    """Recompute the interval correction from the cases closed before today (UTC).

    Done once per day and forecaster object: a second call for the same day is free.
    With ``model_file`` (where the forecaster was loaded from) the correction is also
    kept next to it (``stored_recalibration``): a stored one of the same model, day and
    window is used as is; otherwise it is recomputed and stored, unless the file already
    holds a later day (a look at the past must not replace today's).
    """
    moment = recalibration_moment(now)
    # The window the model chose on its own hold-out cases at training time.
    window = window or forecaster.recalibration_window
    done = forecaster.recalibration
    if done is not None and done["at"] == moment and done["window"] == window.label:
        return forecaster
    stored_at = model_id = stored = None
    if model_file is not None:
        stored_at = stored_recalibration.path_for(model_file)
        model_id = stored_recalibration.model_identity(forecaster, model_file)
        stored = stored_recalibration.read(stored_at)
        if stored_recalibration.is_for(stored, model_id, moment.to_pydatetime(), window.label):
            try:
                stored_recalibration.apply(forecaster, stored)
                return forecaster
            except ValueError as exc:  # e.g. a hand-edited file with another method
                log.warning("ignoring the stored forecast recalibration %s: %s", stored_at, exc)
    ids = _recent_closed_case_ids(session, moment, window, forecaster.quantile_training_cases)
    forecaster.recalibrate(_event_frame(session, ids, None), moment, window)
    if stored_at is not None and model_id is not None and (
            stored is None or stored.model_id != model_id or stored.computed_for < moment.to_pydatetime()):
        stored_recalibration.write(stored_at, stored_recalibration.from_forecaster(forecaster, model_id))
    return forecaster


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
    # The interval's calibration: on how many recently closed cases, closed before
    # which moment; None when the training run's correction is in use.
    calibration_cases: int | None = None
    calibrated_before: datetime | None = None


def _closed(events: pd.DataFrame) -> bool:
    return bool(len(events)) and CLOSING.search(str(events["activity"].iloc[-1])) is not None


def forecast_cases(session: Session, case_ids: Iterable[int], now: datetime,
                   forecaster: ResolutionForecaster | None,
                   calendar: WorkingCalendar | None = None, *,
                   model_file: Path | None = None) -> dict[int, CaseForecast]:
    """Forecasts as of ``now`` (events after ``now`` are not seen). ``model_file``: where
    the forecaster was loaded from, to keep its daily recalibration next to it (``recalibrate``)."""
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
        recalibrate(session, forecaster, now, model_file=model_file)
        predicted = forecaster.predict(prefixes)
    except (NotFittedError, ValueError) as exc:
        return {**out, **{int(i): CaseForecast("no_model", note=str(exc)) for i in open_ids}}
    notes = predicted.attrs.get("notes", {})
    recalibrated = forecaster.recalibration or {}
    basis = ((recalibrated["cases"], recalibrated["at"].to_pydatetime())
             if recalibrated.get("calibration") is not None else (None, None))
    anchors = prefixes.groupby("case_id")["timestamp"].max()
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    for case_id, row in predicted.iterrows():
        anchor = anchors.loc[case_id]
        elapsed = max(0.0, (now_ts - anchor).total_seconds())

        def at(seconds: float, elapsed: float = elapsed) -> pd.Timestamp:
            return (now_ts + pd.Timedelta(seconds=max(0.0, float(seconds) - elapsed))).floor("s")

        upper = at(row["upper_s"])
        out[int(case_id)] = CaseForecast(
            "ok", anchor.to_pydatetime(), elapsed, at(row["remaining_s"]).to_pydatetime(),
            at(row["lower_s"]).to_pydatetime(), upper.to_pydatetime(),
            suggest_promise(upper, calendar).tz_convert("UTC").to_pydatetime(),
            *(max(0.0, float(row[c]) - elapsed) for c in ("remaining_s", "lower_s", "upper_s")),
            notes.get(case_id), *basis)
    return out


def open_case_ids(session: Session, now: datetime) -> list[int]:
    """Cases with an event by ``now`` that were not closed by then (per the cases table)."""
    stmt = select(Case.id).where((Case.opened_at.is_(None)) | (Case.opened_at <= now),
                                 (Case.closed_at.is_(None)) | (Case.closed_at > now))
    return list(session.scalars(stmt.order_by(Case.id)))


def refresh_snapshots(session: Session, now: datetime, forecaster: ResolutionForecaster | None, *,
                      model_file: Path | None = None) -> int:
    """Store the current forecast of every open case (for signals and the dashboard).

    The day's recalibration is computed here (once, and kept next to ``model_file``),
    so the periodic job pays for it rather than the first reader of the day.
    """
    if forecaster is None:
        return 0
    recalibrate(session, forecaster, now, model_file=model_file)  # once, before the chunks below
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
