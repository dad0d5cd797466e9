"""A scratch PostgreSQL database: made on a server, dropped afterwards with its connections
(fleet tests and benchmarks each work in one of their own)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(server_url: str, prefix: str, *, template: str | None = None) -> Iterator[str]:
    """The URL of a new database `<prefix>_<random>` on `server_url`'s server (a copy of the
    database `template`, if given); dropped, connections and all, when the block ends (a
    failed block's too)."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    copy = f" TEMPLATE {template}" if template else ""
    if template is not None and not template.isidentifier():
        raise ValueError(f"template database name {template!r}: letters, digits and _ only")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}{copy}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def fresh_schema(url: str, schema: str) -> str:
    """The URL of `url`'s database with `schema` alone on the search path; the schema is
    emptied first (dropped with everything in it, and made again). Other schemas of the
    database are not touched."""
    if not schema.isidentifier() or schema.lower() != schema:
        raise ValueError(f"schema name {schema!r}: lower-case letters, digits and _ only")
    parsed = make_url(url)
    engine = create_engine(parsed)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    finally:
        engine.dispose()
    isolated = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return isolated.render_as_string(hide_password=False)
