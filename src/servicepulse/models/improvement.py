"""Improvement projects, linked to the moments or drivers they target (for the 7+/9+ scan)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicepulse.models.base import Base, UTCDateTime, utcnow


class ImprovementProject(Base):
    __tablename__ = "improvement_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    cost: Mapped[float | None] = mapped_column(Float)
    expected_improvement: Mapped[float] = mapped_column(Float, default=0.5)  # points on the moment's scale
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    targets: Mapped[list[ProjectTarget]] = relationship(back_populates="project", cascade="all, delete-orphan")


class ProjectTarget(Base):
    """A moment or a named driver (e.g. 'dark_period') that a project means to improve."""

    __tablename__ = "project_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("improvement_projects.id", ondelete="CASCADE"), index=True)
    moment_id: Mapped[int | None] = mapped_column(ForeignKey("moments.id", ondelete="CASCADE"))
    driver: Mapped[str | None] = mapped_column(String(80))

    project: Mapped[ImprovementProject] = relationship(back_populates="targets")
