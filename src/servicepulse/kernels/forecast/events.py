"""Checking and normalising an event table before it reaches the forecaster.

Every problem is reported as a ``ValueError`` whose message names the column
and, where it matters, the first offending row, so that a person can fix the
input without reading a traceback.
"""

from __future__ import annotations

import pandas as pd

REQUIRED_COLUMNS = ("case_id", "activity", "timestamp")
# Optional per-event attributes the model uses when they are present.
OPTIONAL_CATEGORICAL_COLUMNS = ("resource", "team", "channel", "journey")


def _row_label(frame: pd.DataFrame, position: int) -> str:
    label = frame.index[position]
    case = frame["case_id"].iloc[position] if "case_id" in frame.columns else None
    return f"row {label!r}" + (f" (case_id {case!r})" if case is not None else "")


def _coerce_timestamps(frame: pd.DataFrame) -> pd.Series:
    """Return the timestamp column as timezone-aware datetimes.

    Naive timestamps are refused rather than guessed: an hour of offset is an
    hour of error in every remaining-time figure.
    """
    column = frame["timestamp"]
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        stamps = column
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        raise ValueError(
            "column 'timestamp' holds naive datetimes (no timezone). Localise them first, "
            "e.g. events['timestamp'] = events['timestamp'].dt.tz_localize('Europe/Amsterdam')."
        )
    else:
        # Strings or Python datetimes: check each value so the message can name the row.
        parsed = []
        for position, value in enumerate(column.tolist()):
            try:
                stamp = pd.Timestamp(value)
            except (ValueError, TypeError):
                raise ValueError(
                    f"column 'timestamp': {_row_label(frame, position)} holds {value!r}, "
                    "which is not a date and time."
                ) from None
            if stamp is not pd.NaT and stamp.tzinfo is None:
                raise ValueError(
                    f"column 'timestamp': {_row_label(frame, position)} holds {value!r}, which has "
                    "no timezone. Give every timestamp an offset (e.g. '2024-03-01T09:30:00+01:00')."
                )
            parsed.append(stamp)
        # Mixed offsets (summer/winter time) are fine: bring them to one zone.
        stamps = pd.Series(pd.to_datetime(parsed, utc=True), index=column.index)
    missing = stamps.isna().to_numpy()
    if missing.any():
        position = int(missing.argmax())
        raise ValueError(f"column 'timestamp': {_row_label(frame, position)} has no timestamp.")
    return stamps


def validate_events(events: pd.DataFrame, *, what: str = "events") -> pd.DataFrame:
    """Check an event table and return a clean copy sorted by case and time.

    Keeps the required columns plus the optional categorical ones that are
    present. Events of one case with equal timestamps keep their input order.
    """
    if not isinstance(events, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(events).__name__}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in events.columns]
    if missing:
        raise ValueError(
            f"{what} lack the column(s) {', '.join(repr(m) for m in missing)}; "
            f"required are {', '.join(REQUIRED_COLUMNS)}."
        )
    optional = [name for name in OPTIONAL_CATEGORICAL_COLUMNS if name in events.columns]
    frame = events[list(REQUIRED_COLUMNS) + optional].copy()
    for name in ("case_id", "activity"):
        empty = frame[name].isna().to_numpy()
        if empty.any():
            raise ValueError(f"column {name!r}: {_row_label(frame, int(empty.argmax()))} is empty.")
    frame["timestamp"] = _coerce_timestamps(frame)
    frame["activity"] = frame["activity"].astype(str)
    for name in optional:
        # A missing resource is a fact about the event, not an error.
        frame[name] = frame[name].astype("string").fillna("<missing>").astype(str)
    frame["_order"] = range(len(frame))
    frame = frame.sort_values(["case_id", "timestamp", "_order"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)
