"""Digest subscriptions (weekly or monthly report mails), the opt-outs of team members, and the ledger of
what was sent (one row per subscription, recipient and period: a digest is never sent twice).

No customer data: subscriptions name users and teams only. A subscription, its opt-outs and its ledger rows
go with the user (ON DELETE CASCADE) or the team they are for.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow

FREQUENCIES = ("weekly", "monthly")


class DigestSubscription(Base):
    """A user's own subscription (``user_id`` set; ``team_id`` the team whose figures, NULL for the whole
    organisation), or a team's (``user_id`` NULL: every active member of ``team_id`` gets the team's figures)."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        CheckConstraint("frequency IN ('weekly','monthly')", name="frequency"),
        CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name="audience"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DigestOptOut(Base):
    """A member who unsubscribed from a team's digest (the team's subscription stays for the others)."""

    __tablename__ = "digest_opt_outs"

    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestSend(Base):
    """One digest sent: the unique key makes a period's digest go to a recipient once, however often the
    job runs."""

    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("subscription_id", "user_id", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("digest_subscriptions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
