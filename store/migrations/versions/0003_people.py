"""people: users, audit trail, schedule controls

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:19:37.438453

The web pages' people (users with roles), their append-only audit trail (the database
itself refuses UPDATE and DELETE on it), and operations' pause / run-now per schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_controls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("run_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_controls")),
        sa.UniqueConstraint(
            "engagement", "kind", name=op.f("uq_schedule_controls_engagement_kind")
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["work_items.id"], name=op.f("fk_audit_trail_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_trail")),
    )
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_trail_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_trail_item_id"), ["item_id"], unique=False)

    _append_only("create")


def _append_only(how: str) -> None:
    """Triggers that make the audit trail append-only, also for someone with a SQL prompt."""
    if op.get_bind().dialect.name == "postgresql":
        if how == "create":
            op.execute(
                "CREATE FUNCTION audit_trail_append_only() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'the audit trail is append-only'; END $$ LANGUAGE plpgsql"
            )
            op.execute(
                "CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail "
                "FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only()"
            )
        else:
            op.execute("DROP TRIGGER audit_trail_append_only ON audit_trail")
            op.execute("DROP FUNCTION audit_trail_append_only()")
        return
    for verb in ("update", "delete"):
        if how == "create":
            op.execute(
                f"CREATE TRIGGER audit_trail_no_{verb} BEFORE {verb.upper()} ON audit_trail "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER audit_trail_no_{verb}")


def downgrade() -> None:
    _append_only("drop")
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_trail_item_id"))
        batch_op.drop_index(batch_op.f("ix_audit_trail_at"))

    op.drop_table("audit_trail")
    op.drop_table("users")
    op.drop_table("schedule_controls")
