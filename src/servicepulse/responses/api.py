"""/api/v1/responses: submit responses collected elsewhere (one or a batch), read one back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from servicepulse.errors import NotFound
from servicepulse.http.auth import ApiActor, needs
from servicepulse.http.deps import DbSession, get_engine
from servicepulse.http.problems import VALIDATION_TYPE, problem
from servicepulse.models import Response
from servicepulse.responses import service
from servicepulse.responses.schemas import BatchResult, ResponseOut, request_body_schema
from servicepulse.responses.writer import writer_for

router = APIRouter(tags=["responses"])

CONFLICT_TYPE = "urn:servicepulse:problem:external-id-conflict"
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"  # external ids never hold control characters (see items.py)


@router.post(
    "/responses", dependencies=[needs("write:responses")],
    summary="Submit one response or a batch (a JSON list, at most 1,000)",
    description=(
        "Idempotent by `external_id`: sending the same content again returns the stored resource (200, same id); "
        "the same `external_id` with different content is a 409. A batch is all or nothing: one bad item rejects "
        "it, and the 422 names each item and field as a JSON pointer (`/2/answers/nps`). Unknown customers are "
        "created from their external id; a named case must exist and belong to the customer. A batch is taken "
        "for an import of historic answers: the alert rules of the closed loop run on it only with "
        "`?alerts=true` (a single response: unless `?alerts=false`)."
    ),
    status_code=201,
    responses={
        200: {"description": "Everything was already stored (a replay)", "model": ResponseOut | BatchResult},
        201: {"description": "Stored; for a list, `items` follows the order sent", "model": ResponseOut | BatchResult},
        400: {"description": "The body is not JSON"},
        409: {"description": "An external_id is already used for different content"},
        422: {"description": "Validation failed"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": request_body_schema()}}}},
    response_class=JSONResponse,
)
def post_responses(request: Request, payload: Annotated[Any, Body()] = None,
                   alerts: Annotated[bool | None, Query(description="Run the closed loop's alert rules on these "
                                                        "answers (default: for one response yes, for a batch no)")]
                   = None):
    writer = writer_for(get_engine(request))
    try:
        if isinstance(payload, dict):
            if alerts is False:  # on its own rather than grouped with live answers, which do alert
                one = writer.write_batch(payload, alerts=False)
                resource, created = one.resources[0], one.created[0]
            else:
                resource, created = writer.write_one(payload)
            status = 201 if created else 200
            return JSONResponse(resource, status_code=status, headers={"Location": f"responses/{resource['external_id']}"})
        result = writer.write_batch(payload, alerts=bool(alerts))
    except service.IngestRejected as exc:
        errors = [{"location": "body", "field": p.pointer, "message": p.message} for p in exc.item_problems]
        return problem(422, f"nothing was stored: {exc}", type_=VALIDATION_TYPE, title="Validation failed", errors=errors)
    except service.IngestConflict as exc:
        errors = [{"location": "body", "field": p.pointer, "message": p.message} for p in exc.item_problems]
        return problem(409, f"nothing was stored: {exc}", type_=CONFLICT_TYPE, title="Conflict", errors=errors)
    return JSONResponse({"created": result.created_count, "replayed": len(result.created) - result.created_count,
                         "items": result.resources}, status_code=201 if result.created_count else 200)


@router.get(
    "/responses/{external_id:path}", dependencies=[needs("read:responses")],
    summary="Read one response back by its external id",
    response_model=ResponseOut,
    responses={404: {"description": "No response with this external id"}},
)
def get_response(session: DbSession, actor: ApiActor,
                 external_id: Annotated[str, Path(max_length=120, pattern=PRINTABLE)]):
    # Least privilege: a key acting for a team lead reads its teams' responses only; others are "not found".
    team_id = session.scalar(select(Response.team_id).where(Response.external_id == external_id))
    if not actor.sees_team(team_id):
        raise NotFound(f"there is no response with external_id {external_id!r}")
    return JSONResponse(service.get_response(session, external_id))
