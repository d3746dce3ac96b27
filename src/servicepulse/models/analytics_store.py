"""The analytics store's outbox: what changed in the replicated tables and still has to reach ClickHouse.

Written only when SERVICEPULSE_ANALYTICS_URL is set, in the same transaction as the change
(`servicepulse.db.outbox`), and emptied by the shipping job (`servicepulse.analytics_store`). An entry
names a unit and a key, not the row's content: the job ships the unit's rows as they are when it runs
(a response with its answers and analysed comment; a case with its events and facts; a customer; a day
of the score aggregate; a whole small table when `key` is NULL), so an entry holds no personal data and
an erasure needs nothing removed here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow


class AnalyticsOutbox(Base):
    __tablename__ = "analytics_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # response, case, customer, day or a dimension table's name
    key: Mapped[int | None] = mapped_column(BigInteger)  # the unit's id (a day: days since 1970-01-01)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
