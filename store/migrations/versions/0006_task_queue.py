"""task queue: procrastinate's schema, on PostgreSQL only

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 14:00:00

The fleet's jobs live in the store's own database (procrastinate's tables, functions and
triggers, as the installed procrastinate ships them). SQLite stores are embedded and have
no queue: nothing to do there. Downgrading drops the queue and every job in it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if sa.inspect(bind).has_table("procrastinate_jobs"):
        return  # applied by `procrastinate schema --apply` before quotebot managed it
    from procrastinate.schema import SchemaManager

    # Straight to the driver: the schema's '%' signs are PL/pgSQL, not placeholders.
    with bind.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in _TABLES:
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
    for kind in _TYPES:  # CASCADE takes the functions built on them along
        bind.exec_driver_sql(f"DROP TYPE IF EXISTS {kind} CASCADE")


_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
_TYPES = (
    "procrastinate_job_status",
    "procrastinate_job_event_type",
    "procrastinate_job_to_defer_v1",
)
