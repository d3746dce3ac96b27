"""/api/v1/connectors/{zendesk,freshdesk,topdesk,salesforce}: helpdesks call these, authenticated by their
own signature or shared secret instead of an API key (registry.PUBLIC_API_ROUTERS).

Answers: 200 with what was stored (a repeated delivery: 200, nothing stored), 401 when the signature or
secret does not match, 404 while the connector is not configured, 400/422 naming the field of a payload
that is not shaped as the vendor documents it, 503 when the mapping file is broken (the vendor retries
after it is fixed). Salesforce gets SOAP: the Ack, or a SOAP fault with a 4xx status. Nothing of a payload
or a secret is logged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from servicepulse.connectors import freshdesk, salesforce, service, topdesk, zendesk
from servicepulse.connectors.credentials import carries_secret
from servicepulse.connectors.events import PayloadError
from servicepulse.connectors.mapping import load_mapping
from servicepulse.connectors.settings import connector_settings
from servicepulse.db.session import UnitOfWork
from servicepulse.db.write_lock import sqlite_writer
from servicepulse.errors import ConfigurationError
from servicepulse.http.deps import get_engine
from servicepulse.http.problems import VALIDATION_TYPE, problem
from servicepulse.kernels.eventlog import EventLogError

router = APIRouter(prefix="/connectors", tags=["connectors"])
SOAP_MEDIA_TYPE = "text/xml; charset=utf-8"
_ANSWERS = {200: {"description": "Stored (or already stored: nothing changes)"},
            401: {"description": "The signature or shared secret does not match"},
            404: {"description": "This connector is not configured"},
            422: {"description": "The payload is not shaped as the helpdesk documents it (problem+json)"},
            503: {"description": "The connector's mapping file is not valid"}}


async def raw_body(request: Request) -> bytes:
    """The body as received: signatures are computed over these exact bytes."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, message: str, status: int = 422):
    return problem(status, f"nothing was stored: {field}: {message}", type_=VALIDATION_TYPE,
                   title="Validation failed", errors=[{"location": "body", "field": field, "message": message}])


def _json(body: bytes):
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return _invalid("/", "the body is not JSON", status=400)


def _store(request: Request, vendor: str, parse) -> Response:
    """Load the mapping, parse, store in one unit of work; every failure is an answer, never a 500."""
    settings = connector_settings()
    try:
        mapping = load_mapping(vendor, settings.mapping_dir)
    except ConfigurationError as exc:
        return problem(503, str(exc), title="Connector mapping not valid")
    try:
        events = parse(mapping)
    except PayloadError as exc:
        return _invalid(exc.field, exc.message)
    engine = get_engine(request)
    try:
        with sqlite_writer(engine), UnitOfWork(engine) as session:
            result = service.receive(session, vendor, events, mapping)
    except EventLogError as exc:
        errors = [{"location": "body", "field": e.field, "message": e.message} for e in exc.errors]
        return problem(422, f"nothing was stored: {exc.message}", type_=VALIDATION_TYPE, title="Validation failed",
                       errors=errors or [{"location": "body", "field": "/", "message": exc.message}])
    return JSONResponse(result.as_dict())


def _not_configured(vendor: str):
    return problem(404, f"the {vendor} connector is not configured on this server")


def _shared_secret_check(request: Request, vendor: str):
    secret = connector_settings().secret(vendor)
    if not secret:
        return _not_configured(vendor)
    if not carries_secret(request.headers.get("authorization"), secret):
        return problem(401, f"the call does not carry this server's {vendor} secret (HTTP Basic or Bearer)",
                       headers={"WWW-Authenticate": 'Basic realm="servicepulse connectors"'})
    return None


@router.post("/zendesk", summary="Zendesk webhook (ticket events), signed with the webhook's secret",
             responses=_ANSWERS, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object"}}}}})
def zendesk_webhook(request: Request, body: RawBody):
    settings = connector_settings()
    secret = settings.secret("zendesk")
    if not secret:
        return _not_configured("zendesk")
    refused = zendesk.verify(secret, request.headers.get(zendesk.SIGNATURE_HEADER),
                             request.headers.get(zendesk.TIMESTAMP_HEADER), body, _now(),
                             timedelta(seconds=settings.max_signature_age_seconds))
    if refused:
        return problem(401, refused)
    payload = _json(body)
    if isinstance(payload, Response):
        return payload
    return _store(request, "zendesk", lambda mapping: zendesk.parse(payload, mapping))


@router.post("/freshdesk", summary="Freshdesk automation-rule webhook, with the shared secret",
             responses=_ANSWERS, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object"}}}}})
def freshdesk_webhook(request: Request, body: RawBody):
    refused = _shared_secret_check(request, "freshdesk")
    if refused is not None:
        return refused
    payload = _json(body)
    if isinstance(payload, Response):
        return payload
    return _store(request, "freshdesk",
                  lambda mapping: freshdesk.parse(payload, mapping, service.digest(body), _now()))


@router.post("/topdesk", summary="TOPdesk HTTP request action (incident events), with the shared secret",
             responses=_ANSWERS, openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"type": "object"}}}}})
def topdesk_webhook(request: Request, body: RawBody):
    refused = _shared_secret_check(request, "topdesk")
    if refused is not None:
        return refused
    payload = _json(body)
    if isinstance(payload, Response):
        return payload
    return _store(request, "topdesk", lambda mapping: topdesk.parse(payload, mapping, service.digest(body), _now()))


def _soap(content: str, status: int = 200) -> Response:
    return Response(content, status_code=status, media_type=SOAP_MEDIA_TYPE)


@router.post("/salesforce", summary="Salesforce outbound message (SOAP) on Case; answered with the Ack",
             responses={200: {"description": "notificationsResponse with Ack true", "content": {"text/xml": {}}},
                        400: {"description": "Not an outbound message (SOAP fault)"},
                        403: {"description": "Another organisation's message (SOAP fault)"},
                        404: {"description": "This connector is not configured"},
                        422: {"description": "A notification lacks a field the mapping needs (SOAP fault)"},
                        503: {"description": "The connector's mapping file is not valid (SOAP fault)"}},
             description="Body: the SOAP envelope of a Salesforce outbound message; see docs/connectors.md.",
             openapi_extra={"requestBody": {"required": True, "content": {"text/xml": {"schema": {
                 "type": "object", "xml": {"name": "Envelope", "prefix": "soapenv",
                                           "namespace": "http://schemas.xmlsoap.org/soap/envelope/"}}}}}})
def salesforce_outbound_message(request: Request, body: RawBody):
    organisation = connector_settings().salesforce_organization_id.strip()
    if not organisation:
        return _soap(salesforce.fault("the salesforce connector is not configured on this server"), 404)
    try:
        received_org, notifications = salesforce.read(body)
    except PayloadError as exc:
        return _soap(salesforce.fault(f"{exc.field}: {exc.message}"), 400)
    if not salesforce.same_organisation(received_org, organisation):
        return _soap(salesforce.fault("messages from this organisation are not accepted"), 403)
    answer = _store(request, "salesforce", lambda mapping: salesforce.parse(notifications, mapping, _now()))
    if answer.status_code == 200:
        return _soap(salesforce.ACK)
    detail = json.loads(answer.body).get("detail", "not stored")
    return _soap(salesforce.fault(detail, "soapenv:Server" if answer.status_code >= 500 else "soapenv:Client"),
                 answer.status_code)
