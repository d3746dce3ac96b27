"""the analytics store's outbox

`analytics_outbox` lists what changed in the tables replicated to the analytics store (ClickHouse): a
unit (response, case, customer, day of the score aggregate, or a dimension table) and its key. Rows are
written only when SERVICEPULSE_ANALYTICS_URL is set and removed once shipped; they hold no personal data.

Revision ID: 0008_analytics_outbox
Revises: 0007_expectation_gap
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0008_analytics_outbox"
down_revision: str | None = "0007_expectation_gap"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "analytics_outbox",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=True),
        sa.Column("created_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_outbox")),
    )


def downgrade() -> None:
    op.drop_table("analytics_outbox")
