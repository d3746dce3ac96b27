"""Incremental aggregates behind the dashboard's metric queries.

``score_daily_counts`` holds, per UTC day and per combination of journey,
moment, channel, team and customer segment, how many answers gave each score
value of each measure (``grain`` 0). Two roll-ups of the same counts keep the
common queries small: per day by journey and moment only (``grain`` 1) and per
month by journey and moment (``grain`` 2, ``day`` = the first of the month). Every figure of the overview and the moment view (NPS,
means, standard deviations, shares) follows exactly from these counts, so
the dashboard reads a few thousand rows instead of scanning tens of millions
of responses. The table is rebuilt per day range by
``servicepulse.insights.repository.refresh_daily_counts``; ingests add delta
rows (``add_to_daily_counts``) that the hourly job
``insights.fold_daily_counts`` folds in. The raw tables stay the source of truth.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId

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
