"""Cases, their append-only event log, and the promises made to the customer."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, Json, UTCDateTime, utcnow

if TYPE_CHECKING:  # a relationship across owners; SQLAlchemy resolves it by name
    from servicepulse.models.expectations import Promise

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

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="(CaseEvent.occurred_at, CaseEvent.seq)", viewonly=True
    )
    promises: Mapped[list[Promise]] = relationship(back_populates="case", order_by="Promise.made_at")


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


class CaseFacts(Base):
    __tablename__ = "case_facts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    events: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    throughput_days: Mapped[float] = mapped_column(Float)
    inbound_contacts: Mapped[int] = mapped_column(Integer)
    repeat_contacts: Mapped[int] = mapped_column(Integer)
    after_hours_contacts: Mapped[int] = mapped_column(Integer)
    channel_switches: Mapped[int] = mapped_column(Integer)
    handoffs: Mapped[int] = mapped_column(Integer)
    front_to_back: Mapped[int] = mapped_column(Integer)
    back_to_front: Mapped[int] = mapped_column(Integer)
    ping_pong: Mapped[int] = mapped_column(Integer)
    dark_period_hours: Mapped[float] = mapped_column(Float)
    closed: Mapped[bool] = mapped_column(Boolean)
    reopenings: Mapped[int] = mapped_column(Integer)
    first_time_right: Mapped[bool] = mapped_column(Boolean)
    waiting_on_customer_hours: Mapped[float] = mapped_column(Float)
    closed_hours: Mapped[float] = mapped_column(Float)
    waiting_on_us_hours: Mapped[float] = mapped_column(Float)
    # 0-100, higher = more effort: measured (from the CES answer) when there is one, else the estimate
    effort_index: Mapped[float | None] = mapped_column(Float, index=True)
    effort_estimate: Mapped[float | None] = mapped_column(Float)  # from the facts, by the active model
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EffortModel(Base):
    """A learned Customer Effort Index: linear weights on scaled case facts,
    predicting CES (1-7), with its held-out validation figures."""

    __tablename__ = "effort_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    features: Mapped[list] = mapped_column(Json)
    weights: Mapped[list] = mapped_column(Json)
    intercept: Mapped[float] = mapped_column(Float)
    scaling: Mapped[dict] = mapped_column(Json)  # {"transform": ..., "mean": [...], "scale": [...]}
    validation: Mapped[dict] = mapped_column(Json)  # n_train, n_test, correlation, auc, ...
    active: Mapped[bool] = mapped_column(Boolean, default=True)
