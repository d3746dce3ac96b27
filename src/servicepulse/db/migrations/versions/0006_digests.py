"""digest subscriptions: weekly or monthly report mails per user or team

`digest_subscriptions` holds a user's own subscription (figures of one team or of the organisation) or a
team's (every member gets it); `digest_opt_outs` the members who unsubscribed from a team's digest;
`digest_sends` one row per subscription, recipient and period sent, so a digest never goes out twice.

Revision ID: 0006_digests
Revises: 0005_display_names
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0006_digests"
down_revision: str | None = "0005_display_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("created_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("frequency IN ('weekly','monthly')", name=op.f("ck_digest_subscriptions_frequency")),
        sa.CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name=op.f("ck_digest_subscriptions_audience")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_digest_subscriptions_created_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["team_id"], ["org_units.id"],
                                name=op.f("fk_digest_subscriptions_team_id_org_units"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_digest_subscriptions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_subscriptions")),
    )
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_subscriptions_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_digest_subscriptions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "digest_opt_outs",
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["digest_subscriptions.id"],
                                name=op.f("fk_digest_opt_outs_subscription_id_digest_subscriptions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_digest_opt_outs_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "user_id", name=op.f("pk_digest_opt_outs")),
    )
    op.create_table(
        "digest_sends",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("sent_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["digest_subscriptions.id"],
                                name=op.f("fk_digest_sends_subscription_id_digest_subscriptions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_digest_sends_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_sends")),
        sa.UniqueConstraint("subscription_id", "user_id", "period_start",
                            name=op.f("uq_digest_sends_subscription_id_user_id_period_start")),
    )
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_sends_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("digest_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_sends_user_id"))
    op.drop_table("digest_sends")
    op.drop_table("digest_opt_outs")
    with op.batch_alter_table("digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_subscriptions_user_id"))
        batch_op.drop_index(batch_op.f("ix_digest_subscriptions_team_id"))
    op.drop_table("digest_subscriptions")
