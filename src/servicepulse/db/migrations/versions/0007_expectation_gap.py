"""expectation gap: the organisation's chosen value discipline and what the gap view needs

`value_disciplines` keeps the organisation's choice of value discipline (operational excellence, product
leadership or customer intimacy), one row per choice: the newest is current. The gap view itself and
relationship health are computed from answers and events; nothing is stored per customer.

Revision ID: 0007_expectation_gap
Revises: 0006_digests
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0007_expectation_gap"
down_revision: str | None = "0006_digests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "value_disciplines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("discipline", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("chosen_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("chosen_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("discipline IN ('operational_excellence','product_leadership','customer_intimacy')",
                           name=op.f("ck_value_disciplines_discipline")),
        sa.ForeignKeyConstraint(["chosen_by_id"], ["users.id"],
                                name=op.f("fk_value_disciplines_chosen_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_disciplines")),
    )


def downgrade() -> None:
    op.drop_table("value_disciplines")
