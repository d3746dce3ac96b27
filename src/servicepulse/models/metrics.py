"""Tables owned by the metrics domain: saved views (a user's named dashboard page with its filters)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, UTCDateTime, utcnow


class SavedView(Base):
    """A metrics page and its query string under a name its user chose ("Zakelijke klanten, Q3").

    Holds no personal data: the path is a dashboard page, the query only the pages' own filter parameters
    (checked by ``metrics.saved_views``). It goes with its user (``ON DELETE CASCADE``); a view an
    administrator or analyst shares is listed for every user of the dashboard."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(String(1000), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
