"""display names: Dutch and English names for activities, channels, departments and case facts

Revision ID: 0005_display_names
Revises: 0004_saved_views
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import servicepulse.models.base  # noqa: F401

revision: str = "0005_display_names"
down_revision: str | None = "0004_saved_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that owns this migration


def downgrade() -> None:
    pass
