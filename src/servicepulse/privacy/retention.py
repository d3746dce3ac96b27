"""Retention: the daily removal of personal data past its time (settings in ``privacy.settings``).

Each kind is removed by the domain that owns its rows; a run records what it removed in the audit log
(action ``retention.run``), which is where the admin page reads when the job last ran. Never commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from servicepulse.cases import purge_events_before
from servicepulse.followups import purge_contact_notes_before
from servicepulse.invitations import purge_invitations_before
from servicepulse.org import purge_audit_before, record_audit
from servicepulse.privacy.settings import RETENTION_KINDS, RetentionSettings
from servicepulse.responses import purge_comments_before, purge_responses_before
from servicepulse.verbatims import purge_texts_before

RETENTION_ACTION = "retention.run"


def _comments(session: Session, cutoff: datetime) -> int:
    return purge_comments_before(session, cutoff) + purge_texts_before(session, cutoff)


PURGES: dict[str, Callable[[Session, datetime], int]] = {
    "audit_log": purge_audit_before,
    "comments": _comments,
    "responses": purge_responses_before,
    "case_events": purge_events_before,
    "invitations": purge_invitations_before,
    "contact_notes": purge_contact_notes_before,
}
assert set(PURGES) == set(RETENTION_KINDS)


def run_retention(session: Session, now: datetime, settings: RetentionSettings | None = None,
                  actor: str = "job") -> dict[str, int]:
    """Remove, per kind with a retention (days > 0), what is older than ``now`` minus its days; records the
    run in the audit log and returns the rows removed per kind."""
    settings = settings or RetentionSettings()
    removed: dict[str, int] = {}
    for kind in ("audit_log", *[k for k in RETENTION_KINDS if k != "audit_log"]):
        days = settings.days(kind)
        removed[kind] = PURGES[kind](session, now - timedelta(days=days)) if days > 0 else 0
    session.flush()
    record_audit(session, actor, RETENTION_ACTION, {"removed": removed, "days": settings.as_dict()}, at=now)
    return removed
