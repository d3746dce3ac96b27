"""follow-up reasons and settings: one follow-up per response, listing every rule it tripped

Existing follow-ups get their one cause as their first reason. Follow-ups that an earlier version opened
for the same response, one per rule, are folded into the oldest of them when nobody has worked on them
(still open, no contact, gesture or re-survey): their reasons move over and the keeper takes the highest
priority and the earliest due time. Twins somebody has worked on stay as they are.

Revision ID: 0002_followup_reasons
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepulse.models.base

revision: str = "0002_followup_reasons"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "followup_reasons",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("followup_id", BIG_ID, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=120), nullable=False),
        sa.Column("at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("response_id", BIG_ID, nullable=True),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("added_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_followup_reasons_case_id_cases"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["followup_id"], ["followups.id"],
                                name=op.f("fk_followup_reasons_followup_id_followups"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"],
                                name=op.f("fk_followup_reasons_response_id_responses"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_reasons")),
        sa.UniqueConstraint("rule", "ref", name=op.f("uq_followup_reasons_rule_ref")),
    )
    with op.batch_alter_table("followup_reasons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followup_reasons_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_reasons_followup_id"), ["followup_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_followup_reasons_response_id"), ["response_id"], unique=False)
    op.create_table(
        "followup_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("merge_window_days", sa.Integer(), nullable=False),
        sa.Column("alert_max_age_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", servicepulse.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("alert_max_age_days >= 0", name=op.f("ck_followup_settings_alert_max_age")),
        sa.CheckConstraint("merge_window_days >= 0", name=op.f("ck_followup_settings_merge_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_settings")),
    )
    _migrate_data()


def _migrate_data() -> None:
    bind = op.get_bind()
    # every follow-up's cause becomes its first reason, at the time of its answer when it came from one
    bind.execute(sa.text(
        "INSERT INTO followup_reasons (followup_id, rule, ref, at, summary, priority, response_id, case_id, added_at) "
        "SELECT f.id, f.cause, f.cause_ref, COALESCE(r.submitted_at, f.created_at), f.summary, f.priority, "
        "f.response_id, f.case_id, f.created_at "
        "FROM followups f LEFT JOIN responses r ON r.id = f.response_id"))
    twins = bind.execute(sa.text(
        "SELECT f.response_id, f.id, f.priority, f.due_at, "
        "CASE WHEN f.status = 'open' "
        " AND NOT EXISTS (SELECT 1 FROM followup_contacts c WHERE c.followup_id = f.id) "
        " AND NOT EXISTS (SELECT 1 FROM gestures g WHERE g.followup_id = f.id) "
        " AND NOT EXISTS (SELECT 1 FROM followup_resurveys s WHERE s.followup_id = f.id) THEN 1 ELSE 0 END "
        "FROM followups f WHERE f.response_id IS NOT NULL AND f.cause_ref LIKE 'response:%' "
        "AND f.response_id IN (SELECT response_id FROM followups WHERE cause_ref LIKE 'response:%' "
        "                      GROUP BY response_id HAVING COUNT(*) > 1) "
        "ORDER BY f.response_id, f.id")).all()
    groups: dict[int, list] = {}
    for row in twins:
        groups.setdefault(row[0], []).append(row)
    for rows in groups.values():
        keeper, *others = rows
        folded = [r for r in others if r[4] == 1]
        if not folded:
            continue
        priority = min(r[2] for r in [keeper, *folded])
        due = min(r[3] for r in [keeper, *folded])
        ids = [r[1] for r in folded]
        bind.execute(sa.text("UPDATE followup_reasons SET followup_id = :keeper WHERE followup_id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"keeper": keeper[1], "ids": ids})
        bind.execute(sa.text("DELETE FROM followups WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids})
        bind.execute(sa.text("UPDATE followups SET priority = :p, due_at = :due, version = version + 1 "
                             "WHERE id = :keeper"), {"p": priority, "due": due, "keeper": keeper[1]})


def downgrade() -> None:
    op.drop_table("followup_settings")
    with op.batch_alter_table("followup_reasons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followup_reasons_response_id"))
        batch_op.drop_index(batch_op.f("ix_followup_reasons_followup_id"))
        batch_op.drop_index(batch_op.f("ix_followup_reasons_case_id"))
    op.drop_table("followup_reasons")
