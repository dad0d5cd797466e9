"""figure tallies: the dashboard reads running counts, not a million items' history

Revision ID: 0009
Revises: 0008

The managers' figures came from every work item and event loaded into pandas: 18 s a view
at a million items. The store now keeps tallies as items move (`schemas.figures`): counts
per engagement, day and metric (`tally_counts`), duration buckets (`tally_cycles`), items
per state (`tally_states`), and each item's milestones (`entered_at` .. `checked_at`).
The renewals still to do are counted from a partial index of their own; the window's
findings by `findings.recorded_at`.

No backfill here: a store that comes to this revision with history is recounted once when
it is next opened (`Store.rebuild_tallies_if_missing`), by the same code that keeps the
tallies, so there is one definition of what each move counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MILESTONES = ("entered_at", "verified_at", "booked_at", "checked_at")
# `store._models.STILL_TO_DO_WHERE` as it stands at this revision (migrations are frozen).
_STILL_TO_DO = "entered_at IS NULL AND state IN ('new', 'priced', 'failed')"


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: SQLite cannot drop `work_items` (every history
    # table refers to it) while its foreign keys are enforced.
    for name in _MILESTONES:
        op.add_column("work_items", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_work_items_still_to_do",
        "work_items",
        ["engagement_id", "contract_end", "state", "entered_at"],  # covering: see the model
        unique=False,
        sqlite_where=sa.text(_STILL_TO_DO),
        postgresql_where=sa.text(_STILL_TO_DO),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_recorded_at"), ["recorded_at"], unique=False)
    op.create_table(
        "tally_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_tally_counts_engagement_id_engagements"),
        ),
        sa.PrimaryKeyConstraint("day", "engagement_id", "metric", name=op.f("pk_tally_counts")),
    )
    op.create_table(
        "tally_cycles",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("span", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_tally_cycles_engagement_id_engagements"),
        ),
        sa.PrimaryKeyConstraint(
            "day", "engagement_id", "span", "bucket", name=op.f("pk_tally_cycles")
        ),
    )
    op.create_table(
        "tally_states",
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("failure_kind", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_tally_states_engagement_id_engagements"),
        ),
        sa.PrimaryKeyConstraint(
            "engagement_id", "state", "failure_kind", name=op.f("pk_tally_states")
        ),
    )


def downgrade() -> None:
    op.drop_table("tally_states")
    op.drop_table("tally_cycles")
    op.drop_table("tally_counts")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_recorded_at"))
    op.drop_index("ix_work_items_still_to_do", table_name="work_items")
    for name in reversed(_MILESTONES):
        op.execute(f"ALTER TABLE work_items DROP COLUMN {name}")  # SQLite 3.35+, PostgreSQL
