"""The fleet's task queue: procrastinate on the store's own PostgreSQL database.

procrastinate's tables (`procrastinate_jobs`, `procrastinate_workers`, ...) are created by
migration 0006 and read here only: jobs and our records share one database, one backup and
one failure domain. A portal's session cap is a set of PostgreSQL advisory locks, one per
allowed session: a lock dies with its connection, so a killed worker's sessions free
themselves.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, make_url, text, update

from store._base import StoreBase
from store._models import ItemRow

if TYPE_CHECKING:  # procrastinate costs half a second to import: only the fleet needs it
    from procrastinate import App, Blueprint

QUEUE_TABLES = ("procrastinate_jobs", "procrastinate_workers")


class NeedsPostgres(RuntimeError):
    """Raised when the fleet is asked for on a store that is not PostgreSQL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"the fleet needs a PostgreSQL QUOTEBOT_DATABASE_URL, not {url}"
            " (the embedded SQLite store runs items in-process)"
        )


def conninfo(url: str) -> str:
    """libpq's connection string for a SQLAlchemy URL (the query's options, search_path
    included, are kept)."""
    parsed = make_url(url)
    parts = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    words = [f"{k}={_quote(str(v))}" for k, v in parts.items() if v is not None]
    for key, value in parsed.query.items():
        words.append(f"{key}={_quote(value if isinstance(value, str) else value[0])}")
    return " ".join(words)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class QueueMixin(StoreBase):
    def task_queue(self, tasks: Blueprint) -> App:
        """A procrastinate app on this database with `tasks`; open it before use."""
        from procrastinate import App, PsycopgConnector

        if self.dialect != "postgresql":
            raise NeedsPostgres(self.engine.url.render_as_string(hide_password=True))
        url = self.engine.url.render_as_string(hide_password=False)
        app = App(connector=PsycopgConnector(conninfo=conninfo(url)))
        app.add_tasks_from(tasks, namespace="quotebot")
        return app

    def take_item(self, item_id: int, worker: str, lease_seconds: float) -> None:
        """Mark an item as held by a fleet worker, for `runs show` and the steps' lease
        checks. The queue's per-item lock is what keeps two workers off one item; a holder
        named here that is gone was a killed worker whose job the queue gave to this one."""
        with self._write() as session:
            session.execute(
                update(ItemRow)
                .where(ItemRow.id == item_id)
                .values(
                    claimed_by=worker,
                    lease_until=self.now() + timedelta(seconds=lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )

    def run_jobs(self, run_id: int) -> list[dict[str, Any]]:
        """The item jobs of a run: item id, job status, attempts and the holding worker."""
        query = text(
            "SELECT (args->>'item_id')::int AS item_id, status::text AS status, attempts,"
            " worker_id FROM procrastinate_jobs"
            " WHERE task_name = 'quotebot:work_item' AND (args->>'run_id')::int = :run"
            " ORDER BY id"
        )
        with self._read() as session:
            return [dict(row._mapping) for row in session.execute(query, {"run": run_id})]

    @contextmanager
    def portal_session(
        self, engagement: str, max_sessions: int, *, poll_s: float = 0.2
    ) -> Iterator[int]:
        """Hold one of an engagement's `max_sessions` session places while the block runs
        (waiting for one to free up); yields the place's number.

        Fleet-wide on PostgreSQL (advisory locks on a connection kept for the block); on
        SQLite, where everything runs in one process, there is nothing to share.
        """
        if self.dialect != "postgresql":
            yield 0
            return
        key = zlib.crc32(engagement.encode()) & 0x7FFFFFFF
        with self.engine.connect() as connection:
            place = _take_place(connection, key, max_sessions, poll_s)
            try:
                yield place
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:k, :p)"), {"k": key, "p": place}
                )
                connection.commit()


def _take_place(connection: Connection, key: int, places: int, poll_s: float) -> int:
    while True:
        for place in range(places):
            got = connection.scalar(
                text("SELECT pg_try_advisory_lock(:k, :p)"), {"k": key, "p": place}
            )
            connection.commit()
            if got:
                return place
        time.sleep(poll_s)
