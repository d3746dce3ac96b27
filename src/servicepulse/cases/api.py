"""/api/v1/events (ingest one event or a batch) and /api/v1/cases (facts, timeline)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse

from servicepulse.cases import repository, timeline
from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.db.write_lock import sqlite_writer
from servicepulse.http.auth import ApiActor, needs
from servicepulse.http.deps import DbSession, get_engine
from servicepulse.http.params import ApiText
from servicepulse.http.problems import VALIDATION_TYPE, problem
from servicepulse.kernels.eventlog import EventLogError

router = APIRouter(tags=["cases"])
MAX_BATCH = 10_000
EVENT_SCHEMA = {
    "type": "object",
    "required": ["case_id", "activity", "timestamp"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 120, "description": "idempotency key"},
        "case_id": {"type": "string", "maxLength": 100},
        "activity": {"type": "string", "maxLength": 200},
        "timestamp": {"type": "string", "description": "ISO 8601; without an offset Europe/Amsterdam is assumed"},
        "resource": {"type": "string"}, "team": {"type": "string", "description": "team name or key"},
        "channel": {"type": "string"}, "direction": {"type": "string", "enum": ["inbound", "outbound"]},
        "line": {"type": "string", "enum": ["front", "back"]}, "customer_facing": {"type": "boolean"},
        "customer": {"type": "string", "description": "customer external id"},
        "journey": {"type": "string", "description": "journey key"},
    },
    "additionalProperties": True,
}


@router.post(
    "/events", dependencies=[needs("write:events")],
    summary="Store one case event or a batch (a JSON list, at most 10,000)",
    description=(
        "Idempotent by `event_id` (events without one are identified by their content): events already stored "
        "are ignored. Out-of-order events are fine. A batch is all or nothing: one bad item rejects it and the "
        "422 names each item and field. Cases are created from their `case_id`; teams are found by name."
    ),
    status_code=201,
    responses={200: {"description": "Everything was already stored"}, 201: {"description": "Stored"},
               400: {"description": "The body is not JSON"}, 422: {"description": "Validation failed (problem+json)"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [EVENT_SCHEMA, {"type": "array", "items": EVENT_SCHEMA, "maxItems": MAX_BATCH}]}}}}},
)
def post_events(request: Request, payload: Annotated[Any, Body()] = None):
    if not isinstance(payload, (dict, list)):
        return problem(422, "the body must be one event object or a list of them", type_=VALIDATION_TYPE,
                       title="Validation failed", errors=[{"location": "body", "field": "/", "message": "expected an object or a list"}])
    if isinstance(payload, list) and len(payload) > MAX_BATCH:
        return problem(422, f"at most {MAX_BATCH} events per request", type_=VALIDATION_TYPE,
                       title="Validation failed", errors=[{"location": "body", "field": "/", "message": "too many items"}])
    engine = get_engine(request)
    try:
        with sqlite_writer(engine), UnitOfWork(engine) as session:
            summary = ingest_events(session, payload, source="request")
    except EventLogError as exc:
        errors = [{"location": "body", "field": f"/{e.row}/{e.field}" if isinstance(payload, list) else f"/{e.field}",
                   "message": e.message} for e in exc.errors]
        return problem(422, f"nothing was stored: {exc.message}", type_=VALIDATION_TYPE, title="Validation failed",
                       errors=errors or [{"location": "body", "field": "/", "message": exc.message}])
    body = summary.as_dict()
    return JSONResponse(body, status_code=201 if summary.stored else 200)


@router.get("/cases/{external_id}", dependencies=[needs("read:cases")], summary="One case with its facts and effort index",
            responses={404: {"description": "No case with this id"}})
def get_case(session: DbSession, actor: ApiActor, external_id: Annotated[ApiText, Path(max_length=100)]):
    return JSONResponse(repository.case_summary(session, external_id, actor))


@router.get("/cases/{external_id}/timeline", dependencies=[needs("read:cases")], summary="Every event of one case in order, from the customer's side",
            responses={404: {"description": "No case with this id"}})
def get_timeline(session: DbSession, actor: ApiActor, external_id: Annotated[ApiText, Path(max_length=100)]):
    case = repository.get_case(session, external_id, actor)
    return JSONResponse(timeline.as_json(timeline.build(session, case)))
