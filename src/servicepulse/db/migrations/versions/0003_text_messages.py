"""text messages: SMS and WhatsApp invitations' delivery records, and customers' contact preferences

`text_messages` keeps one row per SMS or WhatsApp message of an invitation with the provider's id and
its delivery status (the phone number only as an HMAC, to find whose STOP a reply is);
`contact_preferences` keeps a customer's preferred channel and the channels they stopped.

Revision ID: 0003_text_messages
Revises: 0002_followup_reasons
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0003_text_messages"
down_revision: str | None = "0002_followup_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_preferences",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("preferred_channel", sa.String(length=10), nullable=True),
        sa.Column("sms_opted_out_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("whatsapp_opted_out_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("preferred_channel IS NULL OR preferred_channel IN ('email','sms','whatsapp')",
                           name=op.f("ck_contact_preferences_preferred_channel")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_contact_preferences_customer_id_customers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_contact_preferences")),
    )
    op.create_table(
        "text_messages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("invitation_id", BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_message_id", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=12), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.Column("sent_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued','sent','delivered','read','failed')",
                           name=op.f("ck_text_messages_status")),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitations.id"],
                                name=op.f("fk_text_messages_invitation_id_invitations"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_messages")),
        sa.UniqueConstraint("provider", "provider_message_id", name=op.f("uq_text_messages_provider_provider_message_id")),
    )
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_text_messages_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_index("ix_text_messages_recipient", ["recipient_hash", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("text_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_text_messages_recipient")
        batch_op.drop_index(batch_op.f("ix_text_messages_invitation_id"))
    op.drop_table("text_messages")
    op.drop_table("contact_preferences")
