"""investment: contact costs and what the investment compass needs

Revision ID: 0007_investment
Revises: 0006_digests
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import servicepulse.models.base  # noqa: F401

revision: str = "0007_investment"
down_revision: str | None = "0006_digests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that owns this migration


def downgrade() -> None:
    pass
