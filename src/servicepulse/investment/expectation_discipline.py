"""The organisation's chosen value discipline: operational excellence, product leadership or customer intimacy.

Winners excel at one of price, product or service and keep the other two at a fair level; customers accept
the weaker sides of a clear choice. The choice is recorded by an administrator (audited); the newest row is
the current choice, older rows are its history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.errors import ValidationFailed
from servicepulse.models import ValueDiscipline
from servicepulse.models.investment import VALUE_DISCIPLINES
from servicepulse.org import record_audit

NOTE_LIMIT = 1000


def current(session: Session) -> ValueDiscipline | None:
    return session.scalar(select(ValueDiscipline).order_by(ValueDiscipline.chosen_at.desc(),
                                                           ValueDiscipline.id.desc()).limit(1))


def history(session: Session, limit: int = 10) -> list[ValueDiscipline]:
    return list(session.scalars(select(ValueDiscipline).order_by(ValueDiscipline.chosen_at.desc(),
                                                                  ValueDiscipline.id.desc()).limit(limit)))


def choose(session: Session, discipline: str, note: str | None, user_id: int | None, now: datetime) -> ValueDiscipline:
    """Record a choice (audited as ``investment.discipline``); refuses an unknown discipline or a long note."""
    if discipline not in VALUE_DISCIPLINES:
        raise ValidationFailed(f"discipline must be one of {', '.join(VALUE_DISCIPLINES)}",
                               [("discipline", "unknown discipline")])
    if note is not None and len(note) > NOTE_LIMIT:
        raise ValidationFailed(f"the note may be at most {NOTE_LIMIT} characters", [("note", "too long")])
    row = ValueDiscipline(discipline=discipline, note=note, chosen_at=now, chosen_by_id=user_id)
    session.add(row)
    session.flush()
    record_audit(session, f"user:{user_id}" if user_id else "cli", "investment.discipline",
                 {"discipline": discipline, "id": row.id}, at=now)
    return row
