"""saved views: a user's named set of dashboard filters

Revision ID: 0004_saved_views
Revises: 0003_text_messages
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import servicepulse.models.base  # noqa: F401

revision: str = "0004_saved_views"
down_revision: str | None = "0003_text_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that owns this migration


def downgrade() -> None:
    pass
