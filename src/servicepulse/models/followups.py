"""Follow-ups: the closed loop. An alert opens one follow-up for the team closest to the customer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
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

    contacts: Mapped[list["FollowUpContact"]] = relationship(
        back_populates="followup", order_by="FollowUpContact.at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


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
