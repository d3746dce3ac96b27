"""Expectation management: signal rules, the signals they raise, forecast snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, Json, UTCDateTime, utcnow

if TYPE_CHECKING:  # a relationship across owners; SQLAlchemy resolves it by name
    from servicepulse.models.cases import Case

SIGNAL_RULE_KINDS = ("dark_too_long", "promise_due_soon", "reopened", "repeat_contact", "forecast_after_promise")


class SignalRule(Base):
    """One configured rule; ``params`` holds its thresholds (e.g. {"hours": 48})."""

    __tablename__ = "signal_rules"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('dark_too_long','promise_due_soon','reopened','repeat_contact','forecast_after_promise')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict] = mapped_column(Json, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_emails: Mapped[list] = mapped_column(Json, default=list)
    notify_webhooks: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signal(Base):
    """One firing of a rule on a case. The unique key makes a cause fire once, ever."""

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("rule_id", "case_id", "cause_key"),
        Index("ix_signals_team_fired", "team_id", "fired_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("signal_rules.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id", ondelete="SET NULL"))
    cause_key: Mapped[str] = mapped_column(String(120))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    details: Mapped[dict] = mapped_column(Json, default=dict)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ForecastSnapshot(Base):
    """The latest resolution forecast of an open case (one row per case, replaced on refresh)."""

    __tablename__ = "forecast_snapshots"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last event the forecast counts from
    remaining_s: Mapped[float] = mapped_column(Float)
    lower_s: Mapped[float] = mapped_column(Float)
    upper_s: Mapped[float] = mapped_column(Float)
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    upper_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    promise_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Promise(Base):
    """A promise made to the customer: a call-back, a visit window, a resolution date."""

    __tablename__ = "promises"
    __table_args__ = (
        CheckConstraint("kind IN ('callback','appointment','resolved_by','reply_by')", name="kind"),
        CheckConstraint("status IN ('open','kept','broken')", name="status"),
        UniqueConstraint("case_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="open")
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    made_by_team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20), default="event")

    case: Mapped[Case] = relationship(back_populates="promises")
