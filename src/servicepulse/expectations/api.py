"""/api/v1: promises on cases (one at a time or CSV), kept rates, a case's forecast."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from servicepulse.cases import can_see_case
from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.expectations import forecasting, kept_rate
from servicepulse.expectations.promises import add_promise, import_promises_csv
from servicepulse.http.auth import ApiActor, needs
from servicepulse.http.deps import DbSession, WriteSession
from servicepulse.http.params import ApiMoment, ApiText, PathKey, check_moment_range
from servicepulse.models import Case
from servicepulse.org import Actor
from servicepulse.settings import get_settings

router = APIRouter(tags=["promises"])


class PromiseIn(BaseModel):
    kind: Literal["callback", "appointment", "resolved_by", "reply_by"]
    made_at: ApiMoment = Field(description="When the promise was made (ISO 8601 with offset)")
    due_at: ApiMoment = Field(description="When it must be kept at the latest; for an appointment the window's end")
    window_start: ApiMoment | None = Field(default=None, description="Appointment window start")
    external_id: ApiText | None = Field(default=None, max_length=120, description="Your id; a replay returns the same promise")


def _out(case: Case, p) -> dict:
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"id": p.id, "case": case.external_id, "external_id": p.external_id, "kind": p.kind,
            "made_at": iso(p.made_at), "due_at": iso(p.due_at), "window_start": iso(p.window_start),
            "status": p.status, "kept_at": iso(p.kept_at), "broken_at": iso(p.broken_at), "source": p.source}


def _case(session, external_id: str, actor: Actor | None = None) -> Case:
    """The case; "not found" also when it is outside the key's user's teams."""
    case = session.scalar(select(Case).where(Case.external_id == external_id))
    if case is None or not can_see_case(session, actor, case):
        raise NotFound(f"there is no case {external_id!r}")
    return case


@router.post("/cases/{external_id}/promises", dependencies=[needs("write:events")], status_code=201, summary="Record a promise made to the customer")
def create_promise(external_id: PathKey, body: PromiseIn, session: WriteSession, actor: ApiActor):
    case = _case(session, external_id, actor)
    promise = add_promise(session, external_id, kind=body.kind, made_at=body.made_at, due_at=body.due_at,
                          window_start=body.window_start, external_id=body.external_id, source="api")
    return JSONResponse(_out(case, promise), status_code=201)


@router.get("/cases/{external_id}/promises", dependencies=[needs("read:cases")], summary="A case's promises and their status")
def list_promises(external_id: PathKey, session: DbSession, actor: ApiActor):
    case = _case(session, external_id, actor)
    return {"items": [_out(case, p) for p in case.promises]}


@router.post("/promises/csv", dependencies=[needs("write:events")], summary="Import promises from CSV (case_id, kind, made_at, due_at[, window_start, promise_id])")
def import_csv(session: WriteSession, body: Annotated[bytes, Body(media_type="text/csv")]):
    raw = body
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValidationFailed(f"the body is not a readable CSV table: {exc}", [("body", "not CSV")]) from None
    return {"imported": import_promises_csv(session, frame)}


@router.get("/promises/kept-rate", dependencies=[needs("read:metrics")], summary="Promise-kept rate by journey, team or kind (Wilson 95% interval)")
def kept_rates(session: DbSession, by: Literal["journey", "team", "kind"] = "kind",
               since: ApiMoment | None = None, until: ApiMoment | None = None):
    check_moment_range(since, until, ("since", "until"))
    return {"by": by, "items": [r.as_dict() for r in kept_rate.kept_rates(session, by, since=since, until=until)]}


@router.get("/cases/{external_id}/forecast", dependencies=[needs("read:cases")], summary="Expected resolution of an open case with the 80% interval")
def case_forecast(external_id: PathKey, request: Request, session: DbSession, actor: ApiActor,
                  now: ApiMoment | None = None):
    case = _case(session, external_id, actor)
    moment = now or datetime.now(UTC)
    # The API app carries only the engine; the model lives under the configured data directory.
    settings = getattr(request.app.state, "settings", None) or get_settings()
    path = forecasting.model_path(settings.data_dir)
    result = forecasting.forecast_cases(session, [case.id], moment, forecasting.load_forecaster(path),
                                        model_file=path)[case.id]
    iso = lambda v: v.isoformat() if v else None  # noqa: E731
    return {"case": external_id, "state": result.state, "anchor_at": iso(result.anchor_at),
            "expected_at": iso(result.expected_at), "lower_at": iso(result.lower_at), "upper_at": iso(result.upper_at),
            "suggested_promise_at": iso(result.promise_at), "remaining_s": result.remaining_s,
            "lower_s": result.lower_s, "upper_s": result.upper_s, "note": result.note,
            # The interval's nightly recalibration (null: the training run's correction).
            "interval_calibration_cases": result.calibration_cases,
            "interval_calibrated_before": iso(result.calibrated_before)}
