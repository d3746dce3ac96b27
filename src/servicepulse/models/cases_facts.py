"""Derived case data: effort facts per case, moment mapping rules and the
learned Customer Effort Index model.

`case_facts` holds one row per case with the event-log kernel's facts
(`servicepulse.eventlog.facts.FACT_COLUMNS`), kept up to date as events arrive,
plus the effort index. It is derived data: it can always be rebuilt from
`case_events`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, Json, UTCDateTime, utcnow


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


class MomentRule(Base):
    """Maps events to a journey moment. All given conditions must hold; the
    first matching rule (lowest position) wins."""

    __tablename__ = "moment_rules"
    __table_args__ = (
        CheckConstraint("activity IS NOT NULL OR pattern IS NOT NULL OR channel IS NOT NULL OR team IS NOT NULL",
                        name="some_condition"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    moment_id: Mapped[int] = mapped_column(ForeignKey("moments.id", ondelete="CASCADE"), index=True)
    activity: Mapped[str | None] = mapped_column(String(200))  # exact name, case-insensitive
    pattern: Mapped[str | None] = mapped_column(String(300))  # regular expression on the activity
    channel: Mapped[str | None] = mapped_column(String(30))
    team: Mapped[str | None] = mapped_column(String(200))  # team name or key
    active: Mapped[bool] = mapped_column(Boolean, default=True)


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
