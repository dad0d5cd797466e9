"""fleet workers: each `quotebot worker` process's row, for `quotebot workers`

Revision ID: 0007
Revises: 0006

A worker registers as it starts, beats its heartbeat into its row, writes the items its
slots hold as they start and end them, and removes the row on a clean exit. Created on
SQLite too (where no fleet runs, the table stays empty), so both databases have one schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("engagements", sa.JSON(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_hand", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_fleet_workers")),
    )


def downgrade() -> None:
    op.drop_table("fleet_workers")
