"""display names: Dutch and English names for activities, channels, departments and case facts

Revision ID: 0005_display_names
Revises: 0004_saved_views
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0005_display_names"
down_revision: str | None = "0004_saved_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "display_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("nl", sa.String(length=200), nullable=False),
        sa.Column("en", sa.String(length=200), nullable=False),
        sa.Column("updated_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('activity','channel','department','fact')", name=op.f("ck_display_names_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_names")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_display_names_kind_key")),
    )


def downgrade() -> None:
    op.drop_table("display_names")
