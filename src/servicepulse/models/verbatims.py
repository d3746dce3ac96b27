"""Analysed open answers: the redacted comment, its language, sentiment and theme mentions.

One `verbatims` row per response with a comment (the response id is the key,
so a re-analysis replaces rows without an id round trip and bulk inserts need
no RETURNING). Only the redacted text is kept unless the retention policy
allows the original (`original` stays NULL by default).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicepulse.models.base import Base, BigId, UTCDateTime, utcnow


class Verbatim(Base):
    __tablename__ = "verbatims"
    __table_args__ = (Index("ix_verbatims_language_sentiment", "language", "sentiment"),)

    response_id: Mapped[int] = mapped_column(BigId, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    text: Mapped[str] = mapped_column(Text)  # redacted; spans of mentions refer to it
    original: Mapped[str | None] = mapped_column(Text)  # only where the retention policy allows it
    language: Mapped[str] = mapped_column(String(8))  # nl, en, other, unknown
    language_confidence: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[float] = mapped_column(Float)  # [-1, 1]: model score if a model was used, else lexicon
    lexicon_sentiment: Mapped[float] = mapped_column(Float)
    redactions: Mapped[int] = mapped_column(SmallInteger, default=0)
    codeframe_version: Mapped[int | None] = mapped_column(Integer)
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerbatimMention(Base):
    """One theme found in a comment, with its span in the redacted text and the sentiment of its clause."""

    __tablename__ = "verbatim_mentions"
    __table_args__ = (Index("ix_verbatim_mentions_theme_response", "theme", "response_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("verbatims.response_id", ondelete="CASCADE"), index=True)
    theme: Mapped[str] = mapped_column(String(64))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    matched: Mapped[str] = mapped_column(String(200))
    sentiment: Mapped[float] = mapped_column(Float)


class VerbatimCodeFrame(Base):
    """A saved version of the code frame (YAML); the newest row is the one in use."""

    __tablename__ = "verbatim_codeframes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    yaml: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class VerbatimThemeOwner(Base):
    """Which department owns a theme (overrides the department key written in the code frame)."""

    __tablename__ = "verbatim_theme_owners"

    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"), index=True)
