"""drift repairs: element fingerprints, drift tickets, selector map versions

Revision ID: 0014
Revises: 0013

`element_fingerprints`: what each selector map key's element looked like when it resolved
(per engagement, flavour, key and map version). `drift_tickets`: a page that no longer
matches its map, with the candidates and the proposed patch, until a person decides.
`selector_map_versions`: every version of an engagement's map an approval wrote (who, when).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "element_fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.String(length=64), nullable=False),
        sa.Column("flavour", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("map_version", sa.String(length=16), nullable=False),
        sa.Column("selector", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_element_fingerprints")),
        sa.UniqueConstraint(
            "engagement",
            "flavour",
            "key",
            "map_version",
            name=op.f("uq_element_fingerprints_engagement_flavour_key_map_version"),
        ),
    )
    op.create_table(
        "drift_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.String(length=64), nullable=False),
        sa.Column("flavour", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("selector", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("check", sa.JSON(), nullable=True),
        sa.Column("screenshot", sa.Text(), nullable=True),
        sa.Column("map_path", sa.Text(), nullable=True),
        sa.Column("proposed", sa.Text(), nullable=True),
        sa.Column("patch", sa.Text(), nullable=True),
        sa.Column("map_before", sa.Text(), nullable=True),
        sa.Column("map_after", sa.Text(), nullable=True),
        sa.Column("write", sa.Boolean(), nullable=False),
        sa.Column("healed", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_tickets")),
    )
    op.create_index(
        op.f("ix_drift_tickets_engagement"), "drift_tickets", ["engagement"], unique=False
    )
    op.create_table(
        "selector_map_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_by", sa.String(length=200), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selector_map_versions")),
        sa.UniqueConstraint(
            "engagement", "number", name=op.f("uq_selector_map_versions_engagement_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("selector_map_versions")
    op.drop_index(op.f("ix_drift_tickets_engagement"), table_name="drift_tickets")
    op.drop_table("drift_tickets")
    op.drop_table("element_fingerprints")
