"""Tables of the investment domain (owner: servicepulse.investment)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow

# Cost to serve, failure demand and the compass store nothing: they are recomputed from the case events.
# The value discipline (migration 0007_expectation_gap); the gap view and relationship health are computed.

VALUE_DISCIPLINES = ("operational_excellence", "product_leadership", "customer_intimacy")


class ValueDiscipline(Base):
    """The organisation's chosen value discipline (Treacy & Wiersema), one row per choice: the newest is current,
    the older ones are its history. Organisation-wide (no personal data); written by an administrator (audited)."""

    __tablename__ = "value_disciplines"
    __table_args__ = (
        CheckConstraint("discipline IN ('operational_excellence','product_leadership','customer_intimacy')",
                        name="discipline"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    discipline: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
