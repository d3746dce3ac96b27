"""Invitations by SMS and WhatsApp: the channel for a customer, a text that fits one SMS, sending through the
configured provider, delivery reports and STOP replies. Never commits.

Channel: the customer's preferred channel (`ContactPreference.preferred_channel`) when it is configured,
they can be reached on it and did not stop it; otherwise the first such channel in
SERVICEPULSE_INVITATION_CHANNELS. A STOP on SMS stops SMS only; the opt-out link (every channel) stops all
surveys (`customers.opted_out_at`). Every channel shares one throttling clock: the throttle counts
invitations, whatever carried them (`decisions.THROTTLE_STATUSES`), and an invitation whose message the
provider reports undeliverable turns 'failed', so, like a bounced e-mail, it does not count.

Short links: an SMS link carries a 128-bit token (22 characters) instead of the e-mail's 256 bits, so that
the text with its link and the STOP instruction fits one SMS (160 GSM-7 characters); the text is cut down
in steps (a shorter wording, then a shorter organisation name) until it does.

The texts are catalogue entries (`http/i18n/invitations.yaml`, nl and en). This module reads that file
itself: a domain may not import the web glue that loads the catalogue for pages.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import ConfigurationError
from servicepulse.invitations.tokens import hash_token, keyed_hash
from servicepulse.models import Customer, Invitation, Response
from servicepulse.models.invitations import ContactPreference, InvitationToken, TextMessage
from servicepulse.notify.messaging import (
    SMS_SEPTETS,
    Inbound,
    MessageBirdSms,
    MessageNotSent,
    Outgoing,
    StatusReport,
    Template,
    TextProvider,
    TwilioSms,
    WhatsAppCloud,
    gsm7_length,
    normalise_phone,
    sms_parts,
    to_gsm7,
)
from servicepulse.settings import Settings, get_settings

CHANNELS = ("email", "sms", "whatsapp")
TEXT_CHANNELS = ("sms", "whatsapp")
SMS_TOKEN_BYTES = 16  # 128 bits: 22 URL-safe characters
CATALOGUE = Path(__file__).resolve().parent.parent / "http" / "i18n" / "invitations.yaml"
# The first word of a reply that stops (or restarts) messages on its channel: the carriers' and
# providers' standard keywords (Twilio's Advanced Opt-Out list) and their Dutch counterparts.
STOP_WORDS = {"stop", "stopall", "stopp", "unsubscribe", "cancel", "end", "quit", "revoke", "optout",
              "afmelden", "uitschrijven"}
START_WORDS = {"start", "unstop", "aanmelden"}
# Delivery statuses by how far a message got; a later report never moves a message back, except that
# 'delivered' overrides 'failed' (WhatsApp may report them out of order when a customer has two devices).
STATUS_RANK = {"queued": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}
OPTED_OUT_CODES = {"21610", "131050"}  # Twilio: unsubscribed recipient; WhatsApp: stopped marketing messages


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, str]]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def text(key: str, language: str, **values) -> str:
    entry = _catalogue()[f"invitations.{key}"]
    return (entry.get(language) or entry["nl"]).format(**values)


# --- providers and channels -----------------------------------------------------------------------------


def providers(settings: Settings | None = None) -> dict[str, TextProvider]:
    """The configured provider of each text channel."""
    settings = settings or get_settings()
    _check_complete(settings)
    found: dict[str, TextProvider] = {}
    if settings.sms_provider == "twilio":
        found["sms"] = TwilioSms(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                                 settings.sms_sender, api_url=settings.twilio_api_url)
    elif settings.sms_provider == "messagebird":
        found["sms"] = MessageBirdSms(settings.messagebird_access_key.get_secret_value(),
                                      settings.messagebird_signing_key.get_secret_value(), settings.sms_sender,
                                      api_url=settings.messagebird_api_url)
    if settings.whatsapp_phone_number_id:
        found["whatsapp"] = WhatsAppCloud(settings.whatsapp_phone_number_id,
                                          settings.whatsapp_access_token.get_secret_value(),
                                          settings.whatsapp_app_secret.get_secret_value(),
                                          settings.whatsapp_verify_token.get_secret_value(),
                                          api_url=settings.whatsapp_api_url)
    return found


def _check_complete(settings: Settings) -> None:
    """A provider named without what it needs is a configuration error, said once in plain words, rather
    than every message refused by the provider."""
    needed = {"twilio": ("sms_sender", "twilio_account_sid", "twilio_auth_token"),
              "messagebird": ("sms_sender", "messagebird_access_key", "messagebird_signing_key")}
    names = list(needed.get(settings.sms_provider, ()))
    if settings.whatsapp_phone_number_id:
        names += ["whatsapp_access_token", "whatsapp_app_secret", "whatsapp_verify_token"]
    missing = []
    for name in names:
        value = getattr(settings, name)
        if not (value.get_secret_value() if isinstance(value, SecretStr) else value).strip():
            missing.append(f"SERVICEPULSE_{name.upper()}")
    if missing:
        raise ConfigurationError("text messages are switched on but " + ", ".join(missing)
                                 + (" is" if len(missing) == 1 else " are") + " not set")


def available_channels(settings: Settings | None = None) -> list[str]:
    """The channels to try, in the configured order: e-mail always, SMS and WhatsApp when configured."""
    settings = settings or get_settings()
    configured = {"email"} | set(providers(settings))
    wanted = [c.strip().lower() for c in settings.invitation_channels.split(",") if c.strip()]
    return [c for c in dict.fromkeys(wanted) if c in configured]


def phone_of(customer: Customer, settings: Settings | None = None) -> str | None:
    return normalise_phone(customer.phone, (settings or get_settings()).phone_default_country)


def _stopped(preference: ContactPreference | None, channel: str, now: datetime) -> bool:
    if preference is None or channel not in TEXT_CHANNELS:
        return False
    moment = getattr(preference, f"{channel}_opted_out_at")
    return moment is not None and moment <= now


def channel_for(session: Session, customer: Customer | None, now: datetime,
                channels: list[str] | None = None) -> tuple[str | None, str]:
    """(channel, 'invited'), or (None, 'opted_out' | 'no_contact') when no channel may carry a survey."""
    if customer is None:
        return None, "no_contact"
    if customer.opted_out_at is not None and customer.opted_out_at <= now:
        return None, "opted_out"
    channels = available_channels() if channels is None else channels
    preference = session.get(ContactPreference, customer.id)
    order = list(channels)
    if preference is not None and preference.preferred_channel in order:
        order.remove(preference.preferred_channel)
        order.insert(0, preference.preferred_channel)
    stopped = False
    for channel in order:
        reachable = bool((customer.email or "").strip()) if channel == "email" else phone_of(customer) is not None
        if not reachable:
            continue
        if _stopped(preference, channel, now):
            stopped = True
            continue
        return channel, "invited"
    return None, "opted_out" if stopped else "no_contact"


def preference_of(session: Session, customer_id: int, now: datetime) -> ContactPreference:
    preference = session.get(ContactPreference, customer_id)
    if preference is None:
        preference = ContactPreference(customer_id=customer_id, updated_at=now)
        session.add(preference)
    return preference


def set_channel_stopped(session: Session, customer_id: int, channel: str, stopped: bool, now: datetime) -> None:
    """Record a STOP (or START) on one channel; a STOP withdraws the customer's scheduled invitations on it."""
    preference = preference_of(session, customer_id, now)
    current = getattr(preference, f"{channel}_opted_out_at")
    setattr(preference, f"{channel}_opted_out_at", (current or now) if stopped else None)
    preference.updated_at = now
    if stopped:
        for invitation in session.scalars(select(Invitation).where(
                Invitation.customer_id == customer_id, Invitation.channel == channel,
                Invitation.status == "scheduled")):
            invitation.status = "cancelled"
    session.flush()


# --- composing and sending ------------------------------------------------------------------------------


def compose_sms(kind: str, language: str, organisation: str, url: str) -> str:
    """The SMS of an invitation or reminder in GSM-7, in one SMS: the full wording, else the short one,
    else the short one with the organisation's name shortened. Raises when even the link alone is too long."""
    organisation = to_gsm7(organisation)
    for key in (kind, f"{kind}_short"):
        candidate = to_gsm7(text(f"sms.{key}", language, organisation=organisation, url=url))
        if (gsm7_length(candidate) or SMS_SEPTETS + 1) <= SMS_SEPTETS:
            return candidate
    bare = to_gsm7(text(f"sms.{kind}_short", language, organisation="", url=url))
    room = SMS_SEPTETS - (gsm7_length(bare) or SMS_SEPTETS)
    if room >= 4:
        name = organisation[:room].rstrip()
        candidate = to_gsm7(text(f"sms.{kind}_short", language, organisation=name, url=url))
        if (gsm7_length(candidate) or SMS_SEPTETS + 1) <= SMS_SEPTETS:
            return candidate
    raise MessageNotSent(f"the survey link ({len(url)} characters) leaves no room for a text in one SMS: "
                         "shorten SERVICEPULSE_BASE_URL", permanent=True)


def survey_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/{token}"


def callback_url(base_url: str, provider: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/messaging/{provider}/status"


@dataclass(frozen=True)
class TextSent:
    invitation: Invitation
    message: TextMessage
    token: str
    url: str


def _completed(session: Session, invitation: Invitation) -> bool:
    return session.scalar(select(Response.id).where(Response.invitation_id == invitation.id,
                                                    Response.completed.is_(True)).limit(1)) is not None


def send_text(session: Session, invitation: Invitation, kind: str, now: datetime,
              settings: Settings | None = None) -> TextSent | None:
    """Send an invitation (`kind`='invitation') or its one reminder ('reminder') on the invitation's text
    channel. None (nothing sent) when it should not go out; MessageNotSent when the provider refused.

    Like the e-mail, the message goes out before the caller commits: if the provider fails, the caller's
    savepoint rolls back and the job retries with a fresh token."""
    settings = settings or get_settings()
    channel = invitation.channel
    customer = session.get(Customer, invitation.customer_id)
    preference = session.get(ContactPreference, invitation.customer_id)
    stopped = (customer is None or customer.opted_out_at is not None or _stopped(preference, channel, now))
    if kind == "invitation":
        if invitation.status != "scheduled":
            return None
        if stopped:
            invitation.status = "cancelled"
            return None
    elif (invitation.status != "sent" or invitation.reminder_sent_at is not None or now >= invitation.expires_at
          or stopped or _completed(session, invitation)):
        return None
    phone = phone_of(customer, settings)
    provider = providers(settings).get(channel)
    if phone is None or provider is None:
        if kind == "invitation":
            invitation.status = "failed"
        return None
    token = secrets.token_urlsafe(SMS_TOKEN_BYTES)
    if kind == "invitation":
        validity = invitation.expires_at - invitation.scheduled_at
        invitation.token_hash = hash_token(token)
        invitation.status = "sent"
        invitation.sent_at = now
        invitation.expires_at = now + validity
    else:
        session.add(InvitationToken(invitation_id=invitation.id, token_hash=hash_token(token), purpose="reminder",
                                    issued_at=now))
        invitation.reminder_sent_at = now
    session.flush()
    url = survey_link(settings.base_url, token)
    organisation = settings.organisation_name
    if channel == "sms":
        body = compose_sms(kind, invitation.language, organisation, url)
        outgoing = Outgoing(to=phone, text=body, reference=f"invitation-{invitation.id}-{kind}",
                            status_url=callback_url(settings.base_url, provider.name))
        parts = sms_parts(body)
    else:
        name = settings.whatsapp_template_invitation if kind == "invitation" else settings.whatsapp_template_reminder
        outgoing = Outgoing(to=phone, template=Template(name, invitation.language, (organisation,), token),
                            reference=f"invitation-{invitation.id}-{kind}")
        parts = 1
    receipt = provider.send(outgoing)
    message = TextMessage(invitation_id=invitation.id, channel=channel, provider=provider.name,
                          provider_message_id=receipt.provider_id, purpose=kind,
                          recipient_hash=keyed_hash(settings.resolved_secret_key(), phone), parts=parts,
                          status=receipt.status, sent_at=now)
    session.add(message)
    session.flush()
    return TextSent(invitation, message, token, url)


# --- what providers report back -------------------------------------------------------------------------


def apply_statuses(session: Session, provider: str, reports: list[StatusReport], now: datetime) -> int:
    """Record delivery reports; returns how many changed a message. Reports of unknown messages (erased, or
    sent by another system on the same account) are ignored. An undeliverable invitation turns 'failed',
    and back to 'sent' should a later report say it was delivered after all."""
    changed = 0
    for report in reports:
        message = session.scalar(select(TextMessage).where(TextMessage.provider == provider,
                                                           TextMessage.provider_message_id == report.provider_id))
        if message is None:
            continue
        if report.error_code in OPTED_OUT_CODES:
            invitation = session.get(Invitation, message.invitation_id)
            set_channel_stopped(session, invitation.customer_id, message.channel, True, now)
        if STATUS_RANK.get(report.status, 0) <= STATUS_RANK[message.status]:
            continue
        message.status = report.status
        message.error_code = report.error_code
        message.status_at = now
        changed += 1
        if message.purpose != "invitation":
            continue
        invitation = session.get(Invitation, message.invitation_id)
        if report.status == "failed" and invitation.status == "sent" and not _completed(session, invitation):
            invitation.status = "failed"
        elif report.status in ("delivered", "read") and invitation.status == "failed":
            invitation.status = "sent"
    session.flush()
    return changed


def handle_replies(session: Session, channel: str, replies: list[Inbound], now: datetime,
                   settings: Settings | None = None) -> int:
    """STOP (or START) replies: found through the messages we sent to that number on this channel, so
    that no table has to hold phone numbers in a searchable form. Returns the customers changed."""
    settings = settings or get_settings()
    secret = settings.resolved_secret_key()
    changed = 0
    for reply in replies:
        words = reply.text.strip().lower().split()
        word = words[0].strip(".!") if words else ""
        if word not in STOP_WORDS and word not in START_WORDS:
            continue
        customers = session.scalars(
            select(Invitation.customer_id).join(TextMessage, TextMessage.invitation_id == Invitation.id)
            .where(TextMessage.recipient_hash == keyed_hash(secret, reply.sender), TextMessage.channel == channel)
            .distinct()).all()
        for customer_id in customers:
            set_channel_stopped(session, customer_id, channel, word in STOP_WORDS, now)
            changed += 1
    return changed
