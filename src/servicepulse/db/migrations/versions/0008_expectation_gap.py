"""expectation gap: the organisation's chosen value discipline and what the gap view needs

Revision ID: 0008_expectation_gap
Revises: 0007_investment
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import servicepulse.models.base  # noqa: F401

revision: str = "0008_expectation_gap"
down_revision: str | None = "0007_investment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # placeholder: filled in by the work that owns this migration


def downgrade() -> None:
    pass
