"""web indexes: the review queue's order, a run's events, rules; sign-in failures shared

Revision ID: 0008
Revises: 0007

The people's pages read a page at a time from a million work items: the review queue by
when each item came into it (`work_items.queued_at`, set from the item's history here),
the run page by a run's events (`item_events.run_id`) and the items workers hold now
(`ix_work_items_held`), the queue's rule filter by `findings.rule`. Failed sign-ins are
counted in the store (`sign_in_failures`), so every server process of the pages slows
the same guesses.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# When each item now in the review queue came into it: its last move to its state.
_BACKFILL = """
UPDATE work_items SET queued_at = (
    SELECT max(e.at) FROM item_events e
    WHERE e.item_id = work_items.id AND e.to_state = work_items.state
      AND (e.from_state IS NULL OR e.from_state <> e.to_state)
)
WHERE state = 'flagged' OR (state = 'failed' AND failure_kind = 'business')
"""


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: SQLite cannot drop `work_items` (every history
    # table refers to it) while its foreign keys are enforced.
    op.add_column("work_items", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_work_items_queue",
        "work_items",
        ["queued_at", "state", "failure_kind", "failure_code", "engagement_id"],
        unique=False,
        sqlite_where=sa.text("queued_at IS NOT NULL"),
        postgresql_where=sa.text("queued_at IS NOT NULL"),
    )
    op.create_index(
        "ix_work_items_held",
        "work_items",
        ["engagement_id", "lease_until"],
        unique=False,
        sqlite_where=sa.text("claimed_by IS NOT NULL"),
        postgresql_where=sa.text("claimed_by IS NOT NULL"),
    )
    op.execute(_BACKFILL)
    with op.batch_alter_table("item_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_events_run_id"), ["run_id"], unique=False)
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_rule"), ["rule"], unique=False)
    op.create_table(
        "sign_in_failures",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_in_failures_last_failed_at"), ["last_failed_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_rule"))
    with op.batch_alter_table("item_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_events_run_id"))
    op.drop_index("ix_work_items_held", table_name="work_items")
    op.drop_index("ix_work_items_queue", table_name="work_items")
    op.execute("ALTER TABLE work_items DROP COLUMN queued_at")  # SQLite 3.35+ and PostgreSQL
