"""The per-account side of logging in: find the account for an attempt and count its failures.
Framework-free; never commits.

An attempt checks the failure count, verifies the password and then counts; done naively, parallel
attempts all read the same count and all get their password checked. So the account row is locked
for the attempt (SELECT ... FOR UPDATE on PostgreSQL, held until the unit of work ends); on SQLite
the request's write transaction (BEGIN IMMEDIATE) already serialises writers, and FOR UPDATE is not
SQL there (SQLAlchemy leaves it out).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse.models import User


def user_for_login(session: Session, email: str) -> User | None:
    """The account with this (lower-case) e-mail address, locked until the caller's unit of work ends."""
    statement = (select(User).where(User.email == email).with_for_update()
                 .execution_options(populate_existing=True))  # the locked row's values, not a stale copy
    return session.scalar(statement)


def record_failed_login(session: Session, user: User, now: datetime) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    user.last_failed_login_at = now
    session.flush()


def record_login(session: Session, user: User) -> None:
    user.failed_logins = 0
    user.last_failed_login_at = None
    session.flush()
