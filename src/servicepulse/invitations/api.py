"""/api/v1/trigger-rules: list and create/update trigger rules; /api/v1/trigger-decisions: counts by reason;
/api/v1/contact-preferences/{customer}: preferred channel and stopped channels.

`callbacks_router` (public, PUBLIC_API_ROUTERS): /api/v1/messaging/... where SMS and WhatsApp providers post
delivery reports and replies; no API key, each request is checked by its provider's signature (403 if wrong).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from servicepulse.customers import find_customer
from servicepulse.errors import NotFound
from servicepulse.http.auth import ApiActor, needs
from servicepulse.http.deps import DbSession, WriteSession
from servicepulse.invitations import rules, texting
from servicepulse.models import Customer, Survey, utcnow
from servicepulse.models.invitations import DECISION_REASONS, ContactPreference, TriggerDecision, TriggerRule
from servicepulse.notify.messaging import CallbackRejected, CallbackRequest
from servicepulse.org import actor_label, record_audit
from servicepulse.settings import get_settings

router = APIRouter(tags=["trigger rules"])
RULE_KEY = r"^[a-z0-9][a-z0-9_\-]{0,79}$"


class RuleIn(rules.RuleDefinition):
    """A rule as in a rules file; the key comes from the URL."""

    key: str | None = Field(None, pattern=RULE_KEY, description="ignored: the key is taken from the URL")


class RuleOut(BaseModel):
    key: str
    survey: str
    journey: str | None
    activity: str
    delay_minutes: int
    sample_percent: float
    throttle_days: int
    require_closed: bool
    expires_days: int
    reminder_after_days: int | None
    active: bool


class DecisionCounts(BaseModel):
    survey: str | None
    rule: str | None
    counts: dict[str, int]
    total: int


def _out(view: rules.RuleView) -> RuleOut:
    return RuleOut(key=view.key, survey=view.survey_key, journey=view.journey_key, activity=view.activity,
                   delay_minutes=view.delay_minutes, sample_percent=view.sample_percent,
                   throttle_days=view.throttle_days, require_closed=view.require_closed,
                   expires_days=view.expires_days, reminder_after_days=view.reminder_after_days, active=view.active)


@router.get("/trigger-rules", dependencies=[needs("read:surveys")], summary="List the trigger rules", response_model=list[RuleOut])
def list_rules(session: DbSession) -> list[RuleOut]:
    return [_out(v) for v in rules.list_rules(session)]


@router.put("/trigger-rules/{key}", dependencies=[needs("admin")], summary="Create or update a trigger rule", response_model=RuleOut,
            responses={404: {"description": "Unknown survey or journey"}, 422: {"description": "Validation failed"}})
def put_rule(key: Annotated[str, Path(pattern=RULE_KEY)], body: RuleIn, session: DbSession,
             actor: ApiActor) -> RuleOut:
    raw = body.model_dump(exclude_unset=True) | {"key": key}
    rules.upsert_rule(session, raw)
    record_audit(session, actor_label(actor), "trigger_rule.set", {"rule": key})
    return next(_out(v) for v in rules.list_rules(session) if v.key == key)


@router.get("/trigger-decisions", dependencies=[needs("read:metrics")], summary="Count trigger decisions by reason", response_model=DecisionCounts,
            responses={404: {"description": "Unknown survey or rule"}})
def decision_counts(session: DbSession, survey: Annotated[str | None, Query(max_length=80)] = None,
                    rule: Annotated[str | None, Query(max_length=80)] = None) -> DecisionCounts:
    query = select(TriggerDecision.reason, func.count()).group_by(TriggerDecision.reason)
    if survey is not None:
        survey_id = session.scalar(select(Survey.id).where(Survey.key == survey))
        if survey_id is None:
            raise NotFound(f"survey {survey!r} does not exist")
        query = query.where(TriggerDecision.survey_id == survey_id)
    if rule is not None:
        rule_id = session.scalar(select(TriggerRule.id).where(TriggerRule.key == rule))
        if rule_id is None:
            raise NotFound(f"trigger rule {rule!r} does not exist")
        query = query.where(TriggerDecision.rule_id == rule_id)
    counts = dict.fromkeys(DECISION_REASONS, 0) | {reason: int(n) for reason, n in session.execute(query)}
    return DecisionCounts(survey=survey, rule=rule, counts=counts, total=sum(counts.values()))


# --- contact preferences (key-protected, on `router`) ----------------------------------------------------


class ContactPreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preferred_channel: Literal["email", "sms", "whatsapp"] | None = Field(
        None, description="the channel to try first; null: the installation's order (SERVICEPULSE_INVITATION_CHANNELS)")
    sms_stopped: bool | None = Field(None, description="true: no more SMS (as after a STOP reply); false: SMS again")
    whatsapp_stopped: bool | None = Field(None, description="true: no more WhatsApp messages; false: again")


class ContactPreferencesOut(BaseModel):
    customer: str
    preferred_channel: str | None
    sms_stopped_at: datetime | None
    whatsapp_stopped_at: datetime | None
    channel: str | None = Field(description="the channel the next invitation would take now, or null")


def _preferences_out(session, customer_id: int) -> ContactPreferencesOut:
    customer = session.get(Customer, customer_id)
    preference = session.get(ContactPreference, customer_id)
    channel, _ = texting.channel_for(session, customer, utcnow())
    return ContactPreferencesOut(customer=customer.external_id,
                                 preferred_channel=preference.preferred_channel if preference else None,
                                 sms_stopped_at=preference.sms_opted_out_at if preference else None,
                                 whatsapp_stopped_at=preference.whatsapp_opted_out_at if preference else None,
                                 channel=channel)


@router.get("/contact-preferences/{customer}", dependencies=[needs("read:cases")], tags=["contact preferences"],
            summary="A customer's preferred channel and stopped channels", response_model=ContactPreferencesOut,
            responses={404: {"description": "Unknown customer"}})
def get_contact_preferences(customer: Annotated[str, Path(max_length=100)], session: DbSession) -> ContactPreferencesOut:
    return _preferences_out(session, find_customer(session, customer))


@router.put("/contact-preferences/{customer}", dependencies=[needs("write:events")], tags=["contact preferences"],
            summary="Set a customer's preferred channel, or stop/restart SMS or WhatsApp",
            response_model=ContactPreferencesOut,
            responses={404: {"description": "Unknown customer"}, 422: {"description": "Validation failed"}})
def put_contact_preferences(customer: Annotated[str, Path(max_length=100)], body: ContactPreferencesIn,
                            session: WriteSession) -> ContactPreferencesOut:
    customer_id = find_customer(session, customer)
    now = utcnow()
    given = body.model_fields_set
    preference = texting.preference_of(session, customer_id, now)
    if "preferred_channel" in given:
        preference.preferred_channel = body.preferred_channel
        preference.updated_at = now
    for channel in texting.TEXT_CHANNELS:
        stopped = getattr(body, f"{channel}_stopped")
        if f"{channel}_stopped" in given and stopped is not None:
            texting.set_channel_stopped(session, customer_id, channel, stopped, now)
    session.flush()
    return _preferences_out(session, customer_id)


# --- provider callbacks: public (no API key), each checked by its provider's signature --------------------

callbacks_router = APIRouter(prefix="/messaging", tags=["message callbacks"])
CALLBACK_RESPONSES = {403: {"description": "Signature missing or wrong"}, 404: {"description": "Provider not configured"}}


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def _provider(channel: str, name: str):
    provider = texting.providers().get(channel)
    if provider is None or provider.name != name:
        raise NotFound(f"{name} is not the configured {channel} provider of this installation")
    return provider


def _callback_request(request: Request, body: bytes) -> CallbackRequest:
    # Providers sign the URL they were given, which is built from SERVICEPULSE_BASE_URL: behind a proxy
    # the URL this server sees differs in scheme or host.
    url = get_settings().base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return CallbackRequest(request.method, url, {k.lower(): v for k, v in request.headers.items()}, body)


def _read(provider, request: Request, body: bytes):
    try:
        return provider.read_callback(_callback_request(request, body))
    except CallbackRejected as exc:
        raise HTTPException(403, str(exc)) from None


@callbacks_router.get("/{provider}/status", responses=CALLBACK_RESPONSES, operation_id="sms_status_get",
                      summary="Delivery reports of MessageBird (GET to the reportUrl)")
@callbacks_router.post("/{provider}/status", responses=CALLBACK_RESPONSES, operation_id="sms_status_post",
                       summary="Delivery reports of Twilio (POST to the StatusCallback)")
def sms_status(provider: Annotated[str, Path(pattern="^(twilio|messagebird)$")], request: Request,
               body: RawBody, session: WriteSession) -> PlainTextResponse:
    sms = _provider("sms", provider)
    found = _read(sms, request, body)
    texting.apply_statuses(session, sms.name, found.statuses, utcnow())
    texting.handle_replies(session, "sms", found.inbound, utcnow())
    return PlainTextResponse(found.reply, media_type=found.reply_type)


@callbacks_router.get("/{provider}/inbound", responses=CALLBACK_RESPONSES, operation_id="sms_inbound_get",
                      summary="Replies to our SMS (STOP, START) forwarded by MessageBird")
@callbacks_router.post("/{provider}/inbound", responses=CALLBACK_RESPONSES, operation_id="sms_inbound_post",
                       summary="Replies to our SMS (STOP, START) forwarded by Twilio or MessageBird")
def sms_inbound(provider: Annotated[str, Path(pattern="^(twilio|messagebird)$")], request: Request,
                body: RawBody, session: WriteSession) -> PlainTextResponse:
    return sms_status(provider, request, body, session)


@callbacks_router.get("/whatsapp", responses=CALLBACK_RESPONSES, summary="The WhatsApp webhook handshake")
def whatsapp_handshake(request: Request) -> PlainTextResponse:
    whatsapp = _provider("whatsapp", "whatsapp")
    query = request.query_params
    try:
        challenge = whatsapp.handshake(query.get("hub.mode"), query.get("hub.verify_token"), query.get("hub.challenge"))
    except CallbackRejected as exc:
        raise HTTPException(403, str(exc)) from None
    return PlainTextResponse(challenge)


@callbacks_router.post("/whatsapp", responses=CALLBACK_RESPONSES,
                       summary="WhatsApp status reports and replies (STOP, START)")
def whatsapp_webhook(request: Request, body: RawBody, session: WriteSession) -> PlainTextResponse:
    whatsapp = _provider("whatsapp", "whatsapp")
    found = _read(whatsapp, request, body)
    texting.apply_statuses(session, whatsapp.name, found.statuses, utcnow())
    texting.handle_replies(session, "whatsapp", found.inbound, utcnow())
    return PlainTextResponse(found.reply, media_type=found.reply_type)
