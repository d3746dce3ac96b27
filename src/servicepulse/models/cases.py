"""Cases, their append-only event log, and the promises made to the customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, Json, UTCDateTime, utcnow

PROMISE_KINDS = ("callback", "appointment", "resolved_by", "reply_by")
PROMISE_STATUSES = ("open", "kept", "broken")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    journey_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    attributes: Mapped[dict] = mapped_column(Json, default=dict)

    events: Mapped[list["CaseEvent"]] = relationship(
        back_populates="case", order_by="(CaseEvent.occurred_at, CaseEvent.seq)", viewonly=True
    )
    promises: Mapped[list["Promise"]] = relationship(back_populates="case", order_by="Promise.made_at")


class CaseEvent(Base):
    """One thing that happened in a case. Append-only: never updated in place."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint("direction IS NULL OR direction IN ('inbound','outbound','internal')", name="direction"),
        CheckConstraint("line IS NULL OR line IN ('front','back')", name="line"),
        Index("ix_case_events_case_time", "case_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(BigId, default=0)  # source order, breaks timestamp ties
    activity: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(30))
    direction: Mapped[str | None] = mapped_column(String(10))
    actor: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    line: Mapped[str | None] = mapped_column(String(5))
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moments.id", ondelete="SET NULL"), index=True)
    attributes: Mapped[dict] = mapped_column(Json, default=dict)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


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
