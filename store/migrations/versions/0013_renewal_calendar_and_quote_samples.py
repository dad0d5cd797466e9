"""renewal calendar and quote samples: the forecast's upcoming renewals, the audit's QC

Revision ID: 0013
Revises: 0011

`renewal_calendar`: every upcoming renewal discovery read ahead (contract end, annual value
as exact decimal text), before its quoting window opens. `quote_samples`: verified quotes
sent to the audit team as samples, with their verdict (agreed / disagreed).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "renewal_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("opportunity_id", sa.String(length=100), nullable=False),
        sa.Column("account_name", sa.String(length=300), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.Column("annual_value", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_renewal_calendar_engagement_id_engagements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_calendar")),
        sa.UniqueConstraint(
            "engagement_id",
            "opportunity_id",
            name=op.f("uq_renewal_calendar_engagement_id_opportunity_id"),
        ),
    )
    op.create_table(
        "quote_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("engagement_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("sampled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("reviewer", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["engagement_id"],
            ["engagements.id"],
            name=op.f("fk_quote_samples_engagement_id_engagements"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["work_items.id"], name=op.f("fk_quote_samples_item_id_work_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_samples")),
        sa.UniqueConstraint("item_id", "revision", name=op.f("uq_quote_samples_item_id_revision")),
    )
    with op.batch_alter_table("quote_samples", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quote_samples_engagement_id"), ["engagement_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quote_samples_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quote_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quote_samples_item_id"))
        batch_op.drop_index(batch_op.f("ix_quote_samples_engagement_id"))

    op.drop_table("quote_samples")
    op.drop_table("renewal_calendar")
