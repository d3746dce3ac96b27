"""The delivery figures of text messages (SMS, WhatsApp) for the delivery page: counts per hour, status and
failure reason, read from `text_messages` (which holds no phone number, only an HMAC of it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from servicepulse.invitations.texting import OPTED_OUT_CODES
from servicepulse.models import TextMessage

# What the page counts: the stored statuses, with the failures that were a STOP told by the provider apart.
STATUSES = ("queued", "sent", "delivered", "read", "failed", "opted_out")


@dataclass
class DeliveryRow:
    day: date
    channel: str
    provider: str
    counts: dict[str, int]
    parts: int  # SMS segments billed

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def reached(self) -> int:
        return self.counts["delivered"] + self.counts["read"]


@dataclass
class Reason:
    channel: str
    provider: str
    code: str | None
    count: int


def _hour(session: Session):
    """The UTC hour of sending as 'YYYY-MM-DD HH' text; whole hours map to local days in any whole-hour zone."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", TextMessage.sent_at)
    stamp = TextMessage.sent_at.op("AT TIME ZONE")(literal("UTC"))
    return func.to_char(func.date_trunc("hour", stamp), "YYYY-MM-DD HH24")


def _kind(status: str, code: str | None) -> str:
    return "opted_out" if status == "failed" and code in OPTED_OUT_CODES else status


def delivery(session: Session, zone: ZoneInfo, channel: str | None = None) -> tuple[list[DeliveryRow], list[Reason]]:
    """Rows per local day, channel and provider (newest day first), and the failure reasons (most frequent first)."""
    hour = _hour(session).label("hour")
    query = (select(hour, TextMessage.channel, TextMessage.provider, TextMessage.status, TextMessage.error_code,
                    func.count().label("n"), func.coalesce(func.sum(TextMessage.parts), 0).label("parts"))
             .group_by(hour, TextMessage.channel, TextMessage.provider, TextMessage.status, TextMessage.error_code))
    if channel:
        query = query.where(TextMessage.channel == channel)
    rows: dict[tuple, DeliveryRow] = {}
    reasons: dict[tuple, int] = {}
    for stamp, row_channel, provider, status, code, n, parts in session.execute(query):
        day = datetime.strptime(stamp, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(zone).date()
        key = (day, row_channel, provider)
        if key not in rows:
            rows[key] = DeliveryRow(day, row_channel, provider, dict.fromkeys(STATUSES, 0), 0)
        rows[key].counts[_kind(status, code)] += n
        rows[key].parts += int(parts)
        if status == "failed":
            reason = (row_channel, provider, code)
            reasons[reason] = reasons.get(reason, 0) + n
    ordered = sorted(rows.values(), key=lambda r: (-r.day.toordinal(), r.channel, r.provider))
    failures = sorted((Reason(c, p, code, n) for (c, p, code), n in reasons.items()),
                      key=lambda r: (-r.count, r.channel, r.provider, r.code or ""))
    return ordered, failures
