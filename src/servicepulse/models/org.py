"""Organisation units and teams, users with roles, API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, BigId, Json, UTCDateTime, utcnow

ROLES = ("admin", "analyst", "teamlead", "agent")
UNIT_KINDS = ("organisation", "department", "team")


class OrgUnit(Base):
    """A department or a team; teams sit under a department (`parent_id`)."""

    __tablename__ = "org_units"
    __table_args__ = (CheckConstraint("kind IN ('organisation','department','team')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="team")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"), index=True)
    line: Mapped[str | None] = mapped_column(String(10))  # front / back office, for teams

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin','analyst','teamlead','agent')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="nl")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by logout, deactivation and a password change; a session cookie carrying an older value is dead.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class TeamMembership(Base):
    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("user_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="memberships")
    team: Mapped[OrgUnit] = relationship()


class ApiKey(Base):
    """An API key; only a hash is stored, the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The user the key acts for: their role and teams bound what the key may do (servicepulse.org.access).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Space-separated scopes (servicepulse.org.access.SCOPES). Keys made before scopes existed get the
    # server default, LEGACY_SCOPES: posting responses and events, nothing to read.
    scopes: Mapped[str] = mapped_column(String(400), default="", server_default="write:responses write:events")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One administrative action (an erasure, a retention run, a changed user or key): who, when, what.

    Written through `servicepulse.org.record_audit`. ``details`` holds counts and settings, never personal
    data of customers (an erasure names the customer by a salted hash at most)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))  # "user:<id>", "cli", "job", "api-key:<id>"
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "customer.erase", "retention.run"
    details: Mapped[dict] = mapped_column(Json, default=dict)


DISPLAY_NAME_KINDS = ("activity", "channel", "department", "fact")


class DisplayName(Base):
    """An organisation's own Dutch and English name for a stored key (an activity, a channel, a department, a
    case fact), edited on /admin/display-names; pages show it instead of the shipped label or the raw key."""

    __tablename__ = "display_names"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        CheckConstraint("kind IN ('activity','channel','department','fact')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200))
    nl: Mapped[str] = mapped_column(String(200))
    en: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
