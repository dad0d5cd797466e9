"""Alembic environment: runs on the connection `store.open_store` hands it, or on a URL.

From a shell (e.g. to autogenerate a revision against a scratch database):
`alembic -c store/migrations/alembic.ini -x url=sqlite:///scratch.sqlite revision
--autogenerate -m "..."`.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from store._models import Base
from store._types import UTCDateTime

target_metadata = Base.metadata


def _render_item(kind: str, obj: Any, _context: Any) -> str | Literal[False]:
    # Migrations must not import the application's types: they outlive them.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from store._engine import make_engine, writer

    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic ... -x url=SQLALCHEMY_URL")
    engine = make_engine(url)
    try:
        with writer(engine).connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("quotebot's migrations run online only (store.open_store or alembic upgrade)")
run_migrations_online()
