"""digest subscriptions: weekly or monthly report mails per user or team

Revision ID: 0006_digests
Revises: 0005_display_names
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import servicepulse.models.base  # noqa: F401

revision: str = "0006_digests"
down_revision: str | None = "0005_display_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that owns this migration


def downgrade() -> None:
    pass
