"""Trigger rules, the decisions they made, extra invitation tokens, and anonymous survey links.

Invitations themselves are here too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow

DECISION_REASONS = ("invited", "throttled", "opted_out", "sampled_out", "case_open", "no_contact")


class TriggerRule(Base):
    """After case event `activity` (a name or a pattern with * and ?) in a journey, invite to a survey."""

    __tablename__ = "trigger_rules"
    __table_args__ = (
        CheckConstraint("sample_percent >= 0 AND sample_percent <= 100", name="sample_range"),
        CheckConstraint("delay_minutes >= 0", name="delay_positive"),
        CheckConstraint("throttle_days >= 0", name="throttle_positive"),
        CheckConstraint("expires_days >= 1", name="expiry_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    activity: Mapped[str] = mapped_column(String(200))
    delay_minutes: Mapped[int] = mapped_column(Integer, default=0)
    sample_percent: Mapped[float] = mapped_column(Float, default=100.0)
    throttle_days: Mapped[int] = mapped_column(Integer, default=30)
    require_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Events older than this when they reach the rule (a history import) invite nobody.
    max_event_age_hours: Mapped[int] = mapped_column(Integer, default=72)
    expires_days: Mapped[int] = mapped_column(Integer, default=14)
    reminder_after_days: Mapped[int | None] = mapped_column(Integer)  # None: no reminder
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TriggerDecision(Base):
    """What a rule decided for a case, and why. One per (rule, case): reruns find it and decide nothing new."""

    __tablename__ = "trigger_decisions"
    __table_args__ = (
        UniqueConstraint("rule_id", "case_id"),
        CheckConstraint(
            "reason IN ('invited','throttled','opted_out','sampled_out','case_open','no_contact')", name="reason"
        ),
        Index("ix_trigger_decisions_survey_reason", "survey_id", "reason"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("trigger_rules.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(12))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InvitationToken(Base):
    """A further link to the same invitation (the reminder's); the first one is Invitation.token_hash.

    Only SHA-256 hashes of tokens are stored, so a copy of the database opens no survey.
    """

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(12), default="reminder")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnonymousLink(Base):
    """A survey that may be answered without an invitation at /a/<survey key>, with a per-address limit."""

    __tablename__ = "anonymous_links"
    __table_args__ = (CheckConstraint("per_address_limit >= 1", name="limit_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    per_address_limit: Mapped[int] = mapped_column(Integer, default=5)
    window_minutes: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnonymousSubmission(Base):
    """One anonymous response started from an address (kept as a keyed hash, not the address)."""

    __tablename__ = "anonymous_submissions"
    __table_args__ = (Index("ix_anonymous_submissions_address", "link_id", "address_hash", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("anonymous_links.id", ondelete="CASCADE"))
    address_hash: Mapped[str] = mapped_column(String(64))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), unique=True)
    resume_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the link back to this response
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(Base):
    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("status IN ('scheduled','sent','failed','responded','expired','cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="email")
    language: Mapped[str] = mapped_column(String(5), default="nl")
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


INVITATION_CHANNELS = ("email", "sms", "whatsapp")


class ContactPreference(Base):
    """How a customer wants to be asked: a preferred channel, and the channels they stopped (STOP by SMS or
    WhatsApp, or set through the API). `customers.opted_out_at` stays the opt-out from every survey."""

    __tablename__ = "contact_preferences"
    __table_args__ = (
        CheckConstraint("preferred_channel IS NULL OR preferred_channel IN ('email','sms','whatsapp')",
                        name="preferred_channel"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    sms_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    whatsapp_opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextMessage(Base):
    """One SMS or WhatsApp message of an invitation (the invitation or its reminder) and its delivery status.

    The phone number is not kept here: `recipient_hash` is an HMAC of it under the installation secret,
    enough to find whose STOP a reply is, useless to anyone reading the table."""

    __tablename__ = "text_messages"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id"),
        CheckConstraint("status IN ('queued','sent','delivered','read','failed')", name="status"),
        Index("ix_text_messages_recipient", "recipient_hash", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(12), default="invitation")
    recipient_hash: Mapped[str] = mapped_column(String(64))
    parts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
