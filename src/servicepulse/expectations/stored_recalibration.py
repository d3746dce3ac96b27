"""The nightly recalibration of the forecast interval, kept in a small JSON file.

Recomputing the conformal correction means reading the newest closed cases and
scoring their prefixes (~0.3 s on the small demo, more with history), so it is
computed once per UTC day and model and stored next to the saved model
(``resolution_forecaster.calibration.json``) instead of in the database: no
migration, and it goes wherever the model goes. The file names the model it was
computed for (``ResolutionForecaster.model_id``, given at fit time), so a
retrained model never uses the previous model's correction.

Reading never fails a page: a missing, unreadable or malformed file reads as
"none" and the caller recomputes. Writing goes to a temporary file in the same
folder that then replaces the old one (``os.replace`` is atomic there), so a
reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from servicepulse.kernels.forecast import ResolutionForecaster
from servicepulse.kernels.forecast.conformal import INTERVAL_METHODS, IntervalCalibration

log = logging.getLogger(__name__)
FORMAT = 1


class StoredCorrection(BaseModel):
    """``IntervalCalibration`` as JSON."""

    model_config = ConfigDict(extra="forbid")

    method: str
    pooled: float
    by_group: dict[str, float] = Field(default_factory=dict)

    def calibration(self) -> IntervalCalibration:
        if self.method not in INTERVAL_METHODS:
            raise ValueError(f"unknown interval method {self.method!r}")
        return IntervalCalibration(self.method, self.pooled, dict(self.by_group))


class StoredRecalibration(BaseModel):
    """One recalibration: for which model and moment, on what, and the correction
    (``correction`` null: too few recently closed cases, the fit's stays in use)."""

    model_config = ConfigDict(extra="forbid")

    format: int = FORMAT
    model_id: str
    computed_for: AwareDatetime  # the recalibration moment: the start of a UTC day
    window: str  # RecalibrationWindow.label
    prefixes: int = Field(ge=0)
    cases: int = Field(ge=0)
    last_closed_at: AwareDatetime | None
    correction: StoredCorrection | None


def path_for(model_file: Path) -> Path:
    """Where the recalibration of the model saved at ``model_file`` is kept."""
    model_file = Path(model_file)
    return model_file.with_name(f"{model_file.stem}.calibration.json")


def model_identity(forecaster: ResolutionForecaster, model_file: Path) -> str | None:
    """The model's fit id; for a model saved before fits had one, the digest of its file
    (a retrain rewrites the file). ``None`` when neither is available."""
    if forecaster.model_id:
        return forecaster.model_id
    try:
        with open(model_file, "rb") as handle:
            return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def read(path: Path) -> StoredRecalibration | None:
    """The stored recalibration, or ``None`` when there is none or it cannot be used."""
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read the stored forecast recalibration %s (%s); recomputing it", path, exc)
        return None
    try:
        stored = StoredRecalibration.model_validate_json(text)
        if stored.format != FORMAT:
            raise ValueError(f"format {stored.format}, this version reads {FORMAT}")
        if stored.correction is not None:
            stored.correction.calibration()
        return stored
    except (ValidationError, ValueError) as exc:
        log.warning("ignoring the stored forecast recalibration %s: %s", path, str(exc).splitlines()[0])
        return None


def write(path: Path, stored: StoredRecalibration) -> bool:
    """Replace the file at ``path`` atomically; ``False`` (logged) when it cannot be written,
    e.g. a read-only data directory: the forecast is still shown, only not stored."""
    path = Path(path)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        log.warning("cannot store the forecast recalibration at %s (%s)", path, exc)
        return False
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(stored.model_dump_json(indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return True
    except OSError as exc:
        log.warning("cannot store the forecast recalibration at %s (%s)", path, exc)
        Path(temporary).unlink(missing_ok=True)
        return False


def from_forecaster(forecaster: ResolutionForecaster, model_id: str) -> StoredRecalibration:
    """What ``forecaster``'s last recalibration found, ready to store."""
    info = forecaster.recalibration
    if info is None:
        raise ValueError("the forecaster has not been recalibrated")
    calibration: IntervalCalibration | None = info["calibration"]
    return StoredRecalibration(
        model_id=model_id, computed_for=info["at"].to_pydatetime(), window=info["window"],
        prefixes=info["prefixes"], cases=info["cases"],
        last_closed_at=None if info["last_closed_at"] is None else info["last_closed_at"].to_pydatetime(),
        correction=None if calibration is None else StoredCorrection(
            method=calibration.method, pooled=calibration.pooled, by_group=calibration.by_group),
    )


def apply(forecaster: ResolutionForecaster, stored: StoredRecalibration) -> None:
    """Put a stored recalibration in use on ``forecaster`` (as if it had been recomputed)."""
    forecaster.use_recalibration(
        stored.computed_for, stored.window, stored.prefixes, stored.cases, stored.last_closed_at,
        None if stored.correction is None else stored.correction.calibration())


def is_for(stored: StoredRecalibration | None, model_id: str | None, moment: datetime, window: str) -> bool:
    """Whether ``stored`` is the recalibration of this model, day and window."""
    return (stored is not None and model_id is not None and stored.model_id == model_id
            and stored.computed_for == moment and stored.window == window)
