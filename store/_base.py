"""What every part of the `Store` shares: sessions, the clock and name lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from store._engine import writer
from store._errors import UnknownEngagement, UnknownRecord
from store._models import EngagementRow, ItemRow
from store._types import utcnow


class StoreBase:
    """Short transactions on one engine; readers never block, writers queue."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self._clock = clock
        self._reads = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(writer(engine), expire_on_commit=False)
        # Engagement names never change and engagements are never deleted: cache both ways.
        self._engagement_ids: dict[str, int] = {}
        self._engagement_names: dict[int, str] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the store's clock must return timezone-aware datetimes")
        return now

    def close(self) -> None:
        """Close every pooled connection (call once per process when done)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reads.begin() as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._writes.begin() as session:
            yield session
            # What the transaction's moves add to the figures' tallies, in its last moment:
            # committed with them, and their rows locked no longer than the commit takes.
            tally = session.info.pop("tally", None)
            if tally:
                tally.write(session)

    def _insert(self, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
        """INSERT with the dialect's ON CONFLICT support."""
        if self.dialect == "postgresql":
            return postgresql.insert(model)
        return sqlite.insert(model)

    def _engagement_id(self, session: Session, name: str) -> int:
        if name not in self._engagement_ids:
            found = session.scalar(select(EngagementRow.id).where(EngagementRow.name == name))
            if found is None:
                raise UnknownEngagement(name)
            self._remember(found, name)
        return self._engagement_ids[name]

    def _engagement_name(self, session: Session, engagement_id: int) -> str:
        if engagement_id not in self._engagement_names:
            name = session.scalar(
                select(EngagementRow.name).where(EngagementRow.id == engagement_id)
            )
            if name is None:
                raise UnknownRecord("engagement", engagement_id)
            self._remember(engagement_id, name)
        return self._engagement_names[engagement_id]

    def _remember(self, engagement_id: int, name: str) -> None:
        self._engagement_ids[name] = engagement_id
        self._engagement_names[engagement_id] = name

    def _item_row(self, session: Session, item_id: int, *, lock: bool = False) -> ItemRow:
        """The item's row; `lock` holds it until commit (PostgreSQL; SQLite already is)."""
        query = select(ItemRow).where(ItemRow.id == item_id)
        if lock:
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise UnknownRecord("work item", item_id)
        return row
