"""Users, teams and API keys. Framework-free; never commits (the caller's unit of work does)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.models import ApiKey, OrgUnit, TeamMembership, User, utcnow
from servicepulse.models.org import ROLES
from servicepulse.org.access import DEFAULT_SCOPES, INSTALLATION_SCOPES, SCOPES, allowed_scopes, parse_scopes
from servicepulse.org.passwords import hash_password

__all__ = ["INSTALLATION_SCOPES", "SCOPES"]  # re-exported for callers that make keys (tests, the CLI)

API_KEY_PREFIX = "sp_"
MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_unit(session: Session, key: str, name: str, kind: str = "team", parent: OrgUnit | None = None,
                line: str | None = None) -> OrgUnit:
    unit = OrgUnit(key=key, name=name, kind=kind, parent=parent, line=line)
    session.add(unit)
    session.flush()
    return unit


def create_user(session: Session, email: str, name: str, password: str, role: str,
                teams: list[str] | None = None, lead_of: list[str] | None = None, language: str = "nl") -> User:
    problems = []
    if not _EMAIL.match(email or ""):
        problems.append(("email", f"{email!r} is not an e-mail address"))
    if role not in ROLES:
        problems.append(("role", f"role {role!r} is unknown; choose one of {', '.join(ROLES)}"))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(("password", f"the password must be at least {MIN_PASSWORD_LENGTH} characters"))
    if language not in ("nl", "en"):
        problems.append(("language", "language must be nl or en"))
    if session.scalar(select(User.id).where(User.email == email.lower())):
        problems.append(("email", f"a user with e-mail {email} already exists"))
    if problems:
        raise ValidationFailed("; ".join(m for _, m in problems), problems)
    user = User(email=email.lower(), name=name, password_hash=hash_password(password), role=role, language=language)
    session.add(user)
    for key in teams or []:
        user.memberships.append(TeamMembership(team=_team(session, key), is_lead=False))
    for key in lead_of or []:
        user.memberships.append(TeamMembership(team=_team(session, key), is_lead=True))
    session.flush()
    return user


def _team(session: Session, key: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.key == key))
    if unit is None:
        raise NotFound(f"team {key!r} does not exist")
    return unit


def _hash_key(key: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is safe (no dictionary to attack).
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    name: str
    key: str  # shown once, never stored


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"there is no user with e-mail {email!r}")
    if not user.active:
        raise ValidationFailed(f"the user {email!r} is deactivated", [("user", "inactive")])
    return user


def create_api_key(session: Session, name: str, created_by: User | None = None,
                   scopes: list[str] | tuple[str, ...] | frozenset[str] | None = None) -> NewApiKey:
    """A new key acting for `created_by` with `scopes` (default `DEFAULT_SCOPES`, as far as the
    user's role allows them). Asking for a scope the role does not allow is refused."""
    if not name or len(name) > 100:
        raise ValidationFailed("an API key needs a name of 1-100 characters", [("name", "required")])
    if session.scalar(select(ApiKey.id).where(ApiKey.name == name)):
        raise ValidationFailed(f"an API key named {name!r} already exists", [("name", "duplicate")])
    role = created_by.role if created_by is not None else None
    allowed = allowed_scopes(role)
    if scopes is None:
        chosen = [s for s in DEFAULT_SCOPES if s in allowed]
    else:
        chosen = list(dict.fromkeys(scopes))
        unknown = [s for s in chosen if s not in SCOPES]
        if unknown:
            raise ValidationFailed(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}",
                                   [("scope", "unknown")])
        beyond = [s for s in chosen if s not in allowed]
        if beyond:
            who = f"a user with the role {role}" if role else "a key without a user"
            raise ValidationFailed(f"{who} cannot hold the scope(s) {', '.join(beyond)}; "
                                   f"allowed: {', '.join(sorted(allowed))}", [("scope", "beyond the role")])
    if not chosen:
        raise ValidationFailed("an API key needs at least one scope", [("scope", "required")])
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, prefix=key[:10], key_hash=_hash_key(key), scopes=" ".join(chosen),
                       created_by_id=created_by.id if created_by else None))
    session.flush()
    return NewApiKey(name=name, key=key)


def api_key_digest(key: str) -> str:
    """What identifies a presented key without keeping it: the hash stored for it."""
    return _hash_key(key)


def verify_api_key(session: Session, key: str) -> ApiKey | None:
    """The active key matching `key`, or None; a key whose user is deactivated is refused too.
    Reads only (see `record_api_key_use`)."""
    if not key or not key.startswith(API_KEY_PREFIX):
        return None
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == _hash_key(key), ApiKey.revoked_at.is_(None)))
    if api_key is None or api_key.created_by_id is None:
        return api_key
    user = session.get(User, api_key.created_by_id)
    return api_key if user is not None and user.active else None


LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_use_is_stale(api_key: ApiKey, now: datetime) -> bool:
    """Whether `last_used_at` is worth a write: recorded at most once a minute, since a write on
    every call would serialise the API on SQLite."""
    return api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION


def record_api_key_use(session: Session, api_key_id: int, now: datetime) -> None:
    session.execute(update(ApiKey).where(ApiKey.id == api_key_id).values(last_used_at=now))


def revoke_api_key(session: Session, name: str, now: datetime | None = None) -> ApiKey:
    """Revoke a key by name. Servers that verified it in the last few seconds may accept it
    until their cache entry expires (`servicepulse.api.key_cache.TTL_SECONDS`)."""
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"there is no API key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = now or utcnow()
        session.flush()
    return api_key


def user_team_ids(user: User) -> set[int]:
    return {m.team_id for m in user.memberships}


def user_led_team_ids(user: User) -> set[int]:
    return {m.team_id for m in user.memberships if m.is_lead}


# --- user administration (command line and the admin pages) -----------------------------------------

def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.name)))


def end_sessions(user: User) -> None:
    """Every session cookie of this user stops working at its next request (servicepulse.http.auth)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def find_user(session: Session, email: str) -> User:
    """A user by e-mail, active or not (`user_by_email` refuses deactivated users)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"there is no user with e-mail {email!r}")
    return user


def set_active(session: Session, user: User, active: bool) -> User:
    """Deactivating ends the user's sessions at once and stops their API keys (within the key cache's seconds)."""
    if user.active != active:
        user.active = active
        if not active:
            end_sessions(user)
        session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> User:
    """A new password ends every session of the user and unlocks the account."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"the password must be at least {MIN_PASSWORD_LENGTH} characters",
                               [("password", "too short")])
    user.password_hash = hash_password(password)
    end_sessions(user)
    unlock(session, user)
    return user


def generated_password() -> str:
    return secrets.token_urlsafe(12)


def unlock(session: Session, user: User) -> User:
    """Forget the account's failed logins (the login throttle's per-account count)."""
    user.failed_logins = 0
    user.last_failed_login_at = None
    session.flush()
    return user


def find_api_key(session: Session, name: str) -> ApiKey:
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"there is no API key named {name!r}")
    return api_key


def key_scopes(api_key: ApiKey) -> frozenset[str]:
    return parse_scopes(api_key.scopes)
