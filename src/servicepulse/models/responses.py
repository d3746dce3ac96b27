"""Responses and their answers, where new responses are pushed to (webhook endpoints), and the
incremental aggregates behind the dashboard's metric queries.

``score_daily_counts`` holds, per UTC day and per combination of journey,
moment, channel, team and customer segment, how many answers gave each score
value of each measure (``grain`` 0). Two roll-ups of the same counts keep the
common queries small: per day by journey and moment only (``grain`` 1) and per
month by journey and moment (``grain`` 2, ``day`` = the first of the month). Every figure of the overview and the moment view (NPS,
means, standard deviations, shares) follows exactly from these counts, so
the dashboard reads a few thousand rows instead of scanning tens of millions
of responses. The table is rebuilt per day range by
``servicepulse.responses.aggregate.refresh_daily_counts``; ingests add delta
rows (``add_to_daily_counts``) that the hourly job
``insights.fold_daily_counts`` folds in. The raw tables stay the source of truth.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, Json, UTCDateTime, utcnow

# measure codes: 'responses' (value 0, counts responses), the headline columns of a response,
# and 'moment' for a moment grade from the answers
DAILY_MEASURES = ("responses", "nps", "grade", "ces", "csat", "moment")
GRAIN_DETAIL, GRAIN_DAY, GRAIN_MONTH = 0, 1, 2


class ScoreDailyCount(Base):
    __tablename__ = "score_daily_counts"
    __table_args__ = (
        Index("ix_score_daily_counts_grain_measure_day", "grain", "measure", "day"),
        # the newest aggregated day, asked before every dashboard query (has_daily_counts): one index lookup
        Index("ix_score_daily_counts_grain_day", "grain", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grain: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    day: Mapped[date] = mapped_column(Date)
    measure: Mapped[str] = mapped_column(String(10))
    # for 'moment' rows the moment graded; for headline rows the response's moment
    moment_id: Mapped[int | None] = mapped_column(Integer)
    journey_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(String(60))
    value: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(BigInteger)


class Response(Base):
    """One answered survey. The headline scores are copied onto the row so that
    aggregates over tens of millions of responses need no join with answers."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint("nps IS NULL OR (nps >= 0 AND nps <= 10)", name="nps_range"),
        CheckConstraint("grade IS NULL OR (grade >= 1 AND grade <= 10)", name="grade_range"),
        CheckConstraint("ces IS NULL OR (ces >= 1 AND ces <= 7)", name="ces_range"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="csat_range"),
        Index("ix_responses_moment_time", "moment_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moments.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(5))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed: Mapped[bool] = mapped_column(default=True)
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    grade: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # idempotent replays: same hash, same resource

    answers: Mapped[list[Answer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(60))
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_json: Mapped[list | dict | None] = mapped_column(Json)

    response: Mapped[Response] = relationship(back_populates="answers")


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    # The receiver needs the secret to check signatures, so it is stored as is (not hashed).
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
