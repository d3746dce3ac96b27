"""Follow-ups: the closed loop. An alert opens one follow-up for the team closest to the customer."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow

FOLLOWUP_STATUSES = ("open", "claimed", "closed")
FOLLOWUP_OUTCOMES = ("resolved", "explained", "compensated", "unreachable")


class FollowUp(Base):
    __tablename__ = "followups"
    __table_args__ = (
        # One follow-up per cause: the same alert on the same response/case never opens two.
        UniqueConstraint("cause", "cause_ref"),
        CheckConstraint("status IN ('open','claimed','closed')", name="status"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('resolved','explained','compensated','unreachable')", name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cause: Mapped[str] = mapped_column(String(40))  # alert rule key, e.g. "detractor"
    cause_ref: Mapped[str] = mapped_column(String(120))  # e.g. "response:123"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 high .. 3 low
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(12))
    root_cause: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock for concurrent claims

    contacts: Mapped[list[FollowUpContact]] = relationship(
        back_populates="followup", order_by="FollowUpContact.at", cascade="all, delete-orphan"
    )
    reasons: Mapped[list[FollowUpReason]] = relationship(
        back_populates="followup", order_by="(FollowUpReason.at, FollowUpReason.id)", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class FollowUpReason(Base):
    """One reason a follow-up is there: an alert rule that tripped on a response, a case or a promise.

    A follow-up lists every reason of its response, and later reasons of the same customer are merged into
    their open follow-up (followups.alerts). One reason per rule and source ever (unique rule, ref): the
    same alert is never recorded twice, also when two workers evaluate the same response at once."""

    __tablename__ = "followup_reasons"
    __table_args__ = (UniqueConstraint("rule", "ref"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(40))  # alert rule key, e.g. "detractor"
    ref: Mapped[str] = mapped_column(String(120))  # the source: "response:123", "case:5", "promise:7"
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened (answer submitted, promise broken)
    summary: Mapped[str | None] = mapped_column(Text)  # e.g. "NPS 3" (never the customer's words)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    followup: Mapped[FollowUp] = relationship(back_populates="reasons")


class FollowUpSettings(Base):
    """The closed loop's settings (one row, id 1; without it the defaults apply: followups.config)."""

    __tablename__ = "followup_settings"
    __table_args__ = (
        CheckConstraint("merge_window_days >= 0", name="merge_window"),
        CheckConstraint("alert_max_age_days >= 0", name="alert_max_age"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    merge_window_days: Mapped[int] = mapped_column(Integer, default=14)
    alert_max_age_days: Mapped[int] = mapped_column(Integer, default=14)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUpContact(Base):
    """A logged contact with the customer on a follow-up."""

    __tablename__ = "followup_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(12))

    followup: Mapped[FollowUp] = relationship(back_populates="contacts")


GESTURE_KINDS = ("credit", "gift", "free_service")
CHANNEL_KINDS = ("email", "slack", "teams", "webhook")


class AlertRule(Base):
    """One alert rule's settings; a rule without a row runs with its defaults (followups.rules.DEFAULTS)."""

    __tablename__ = "alert_rules"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[float | None] = mapped_column(Float)  # e.g. NPS <= 6; effort index >= 70
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 high .. 3 low
    due_working_days: Mapped[int] = mapped_column(Integer, default=2)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRouting(Base):
    """A configured owner for the follow-ups of one moment (overrides the moment's department)."""

    __tablename__ = "alert_routings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    moment_id: Mapped[int] = mapped_column(ForeignKey("moments.id", ondelete="CASCADE"), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))


class RootCause(Base):
    """An entry of a journey's root-cause list (journey_id NULL: offered on every journey)."""

    __tablename__ = "root_causes"
    __table_args__ = (UniqueConstraint("journey_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    label_nl: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, language: str) -> str:
        return self.label_nl if language == "nl" else self.label_en


class RecoveryBudget(Base):
    """What a team or one employee may spend on gestures in a period without asking (amounts in cents)."""

    __tablename__ = "recovery_budgets"
    __table_args__ = (
        CheckConstraint("(team_id IS NULL) <> (user_id IS NULL)", name="one_owner"),
        CheckConstraint("amount_cents >= 0", name="amount"),
        CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # inclusive
    amount_cents: Mapped[int] = mapped_column(Integer)


class Gesture(Base):
    """A gesture granted on a follow-up. Over budget it waits ('pending') for a team lead's approval."""

    __tablename__ = "gestures"
    __table_args__ = (
        CheckConstraint("kind IN ('credit','gift','free_service')", name="kind"),
        CheckConstraint("status IN ('granted','pending','approved','refused')", name="status"),
        CheckConstraint("amount_cents > 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationChannel(Base):
    """Where new and overdue follow-ups are announced: an e-mail address or a (Slack/Teams/generic) webhook."""

    __tablename__ = "notification_channels"
    __table_args__ = (CheckConstraint("kind IN ('email','slack','teams','webhook')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))  # e-mail address or URL
    secret: Mapped[str | None] = mapped_column(String(200))  # HMAC key for signed webhooks
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))  # NULL: all teams
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resurvey(Base):
    """A re-survey asked for when a follow-up closed (the invitation, when one could be made)."""

    __tablename__ = "followup_resurveys"

    followup_id: Mapped[int] = mapped_column(ForeignKey("followups.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(300))  # why no invitation was made
