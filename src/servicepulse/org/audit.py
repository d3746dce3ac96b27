"""The audit log of administrative actions (table ``audit_log``, owned by org so every domain may write it).

`record_audit(session, actor, action, details)` adds one entry in the caller's unit of work (it commits with
the action it records, or not at all). ``details`` must hold no personal data of customers: counts,
settings, a salted hash at most. `purge_audit_before` is the audit log's own retention.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from servicepulse.models import AuditEntry, utcnow

MAX_ACTOR = 200
MAX_ACTION = 60


def actor_label(actor) -> str:
    """How an Actor (servicepulse.org.access) is named in the audit log: its user, or the installation key."""
    return f"user:{actor.id}" if getattr(actor, "id", None) is not None else "installation-key"


def record_audit(session: Session, actor: str, action: str, details: dict | None = None,
                 at: datetime | None = None) -> int:
    """Add one audit entry (``actor`` e.g. "user:3", "cli", "job"; ``action`` e.g. "customer.erase");
    returns its id. Never commits."""
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    row = {"at": at or utcnow(), "actor": actor[:MAX_ACTOR], "action": action[:MAX_ACTION],
           "details": dict(details or {})}
    return int(session.execute(insert(AuditEntry).values(**row).returning(AuditEntry.id)).scalar_one())


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_audit(session: Session, page: int = 1, per_page: int = 50, action: str | None = None) -> AuditPage:
    """The audit log, newest first, one page at a time (``action``: only entries of that action)."""
    page, per_page = max(1, int(page)), min(max(1, int(per_page)), 500)
    where = [AuditEntry.action == action] if action else []
    total = int(session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0)
    entries = list(session.scalars(select(AuditEntry).where(*where)
                                   .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)))
    return AuditPage(entries, total, page, per_page)


def last_audit(session: Session, action: str) -> AuditEntry | None:
    """The newest entry of one action (e.g. the last retention run)."""
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)).first()


def purge_audit_before(session: Session, cutoff: datetime) -> int:
    """Delete audit entries older than ``cutoff``; returns how many."""
    return int(session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount or 0)
