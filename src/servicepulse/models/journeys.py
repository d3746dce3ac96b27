"""Journeys and their moments (functional or emotional, each with a norm)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base

MOMENT_KINDS = ("functional", "emotional")
# 7+/9+: meeting expectations (a 7) suffices on functional moments; moments of
# truth need a 9.
DEFAULT_NORMS = {"functional": 7.0, "emotional": 9.0}


class Journey(Base):
    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name_nl: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_nl: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)

    moments: Mapped[list[Moment]] = relationship(
        back_populates="journey", order_by="Moment.position", cascade="all, delete-orphan"
    )

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en

    def description(self, language: str) -> str | None:
        return self.description_nl if language == "nl" else self.description_en


class Moment(Base):
    __tablename__ = "moments"
    __table_args__ = (
        UniqueConstraint("journey_id", "key"),
        CheckConstraint("kind IN ('functional','emotional')", name="kind"),
        CheckConstraint("norm >= 1 AND norm <= 10", name="norm_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    name_nl: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))
    norm: Mapped[float] = mapped_column(Float)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(30))

    journey: Mapped[Journey] = relationship(back_populates="moments")

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en

    def description(self, language: str) -> str | None:
        return self.description_nl if language == "nl" else self.description_en


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
