"""The figures' running tallies (`schemas.figures`), kept as work items move.

Every event a transaction records adds to a `Tally` held by its session; `StoreBase._write`
writes the tally just before the commit, so the tallies and the history never disagree.
The same `Tally.event` replays a history (`rebuild`, `fill_synthetic`): one definition of
what each move counts.

Written in one order (states, counts, cycles; each by key), so two transactions that
touch the same tally rows on PostgreSQL queue behind each other and never deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from schemas.figures import LEAD_DAYS, MOVED, SPANS, bucket_of
from schemas.work import ItemState
from store._models import CountTallyRow, CycleTallyRow, EventRow, ItemRow, StateTallyRow

_S = ItemState
_STARTS = {"read": "created_at", "entered": "entered_at"}
_ENDS = {"entered": "entered_at", "verified": "verified_at", "booked": "booked_at"}
MILESTONES = ("entered_at", "verified_at", "booked_at", "checked_at")
"""The work item's milestone columns, each set once, at its first time."""


class Milestoned(Protocol):
    """What a move is tallied from: a work item's row, or a replayed one (`Replayed`)."""

    engagement_id: int
    created_at: datetime
    contract_end: date | None
    snapshot: dict[str, Any] | None
    entered_at: datetime | None
    verified_at: datetime | None
    booked_at: datetime | None
    checked_at: datetime | None


@dataclass
class Replayed:
    """A work item's milestones while its history is replayed."""

    engagement_id: int
    created_at: datetime
    contract_end: date | None
    snapshot: dict[str, Any] | None
    entered_at: datetime | None = None
    verified_at: datetime | None = None
    booked_at: datetime | None = None
    checked_at: datetime | None = None

    def milestones(self) -> dict[str, datetime | None]:
        return {name: getattr(self, name) for name in MILESTONES}


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _quote_date(snapshot: Mapping[str, Any] | None) -> date | None:
    value = (snapshot or {}).get("quote_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


StateKey = tuple[int, str, str]
CountKey = tuple[date, int, str]
CycleKey = tuple[date, int, str, int]


class Tally:
    """What one transaction (or one replay) adds to the tallies."""

    def __init__(self) -> None:
        self.states: Counter[StateKey] = Counter()
        self.counts: Counter[CountKey] = Counter()
        self.cycles: Counter[CycleKey] = Counter()

    def __bool__(self) -> bool:
        return any(self.states.values()) or any(self.counts.values()) or any(self.cycles.values())

    def state(
        self,
        engagement_id: int,
        before: tuple[str, str | None] | None,
        after: tuple[str, str | None],
    ) -> None:
        """An item came into being in `after` (`before` None) or moved from `before`."""
        if before is not None:
            self.states[(engagement_id, before[0], before[1] or "")] -= 1
        self.states[(engagement_id, after[0], after[1] or "")] += 1

    def event(self, item: Milestoned, came: str | None, to: str, at: datetime) -> None:
        """Count a move of `item` from `came` to `to` at `at`, and set the milestones it is
        the first of on `item` (call before the item's state changes)."""
        at = _utc(at)
        day, e = at.date(), item.engagement_id
        if came == to:  # a retry's attempt, not a move
            return
        if to in MOVED:
            self.counts[(day, e, MOVED[to])] += 1
        column = _ENDS.get(to)
        if column is not None and getattr(item, column) is None:
            setattr(item, column, at)
            self.counts[(day, e, to)] += 1
            for span, (start, end) in SPANS.items():
                began = getattr(item, _STARTS[start])
                if end == to and began is not None:
                    seconds = (at - _utc(began)).total_seconds()
                    self.cycles[(day, e, span, bucket_of(seconds))] += 1
        if came == _S.ENTERED and to in (_S.VERIFIED, _S.FLAGGED) and item.checked_at is None:
            item.checked_at = at
            self.counts[(day, e, "checked")] += 1
            if to == _S.VERIFIED:
                self.counts[(day, e, "first_pass")] += 1
            self._quoted(item)

    def _quoted(self, item: Milestoned) -> None:
        if item.contract_end is None or item.entered_at is None:
            return
        entered = _utc(item.entered_at).date()
        dated = _quote_date(item.snapshot) or entered
        self.counts[(entered, item.engagement_id, "quoted")] += 1
        if (item.contract_end - dated).days >= LEAD_DAYS:
            self.counts[(entered, item.engagement_id, "quoted_early")] += 1

    def write(self, session: Session | Connection) -> None:
        """Add this tally to the tables, in the one order every writer uses."""
        connection = session.connection() if isinstance(session, Session) else session
        dialect = connection.dialect.name
        tables: list[tuple[Any, tuple[str, ...], Counter[Any]]] = [
            (StateTallyRow, ("engagement_id", "state", "failure_kind"), self.states),
            (CountTallyRow, ("day", "engagement_id", "metric"), self.counts),
            (CycleTallyRow, ("day", "engagement_id", "span", "bucket"), self.cycles),
        ]
        for model, keys, deltas in tables:
            rows = [
                dict(zip(keys, key, strict=True), n=n) for key, n in sorted(deltas.items()) if n
            ]
            if not rows:
                continue
            insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
            upsert = insert.on_conflict_do_update(
                index_elements=list(keys), set_={"n": model.__table__.c.n + insert.excluded.n}
            )
            # One row at a time, in key order: that order is what keeps writers deadlock-free.
            for row in rows:
                connection.execute(upsert.values(row))
            deltas.clear()


def tally_of(session: Session) -> Tally:
    """The tally of the session's transaction (written by `StoreBase._write` at commit)."""
    found = session.info.get("tally")
    if found is None:
        found = session.info["tally"] = Tally()
    return found


def rebuild(connection: Connection) -> int:
    """Replace every tally and milestone by a replay of the whole history (a store that had
    history before it kept tallies). Returns the items replayed."""
    for model in (StateTallyRow, CountTallyRow, CycleTallyRow):
        connection.execute(delete(model))
    items = connection.execute(
        select(
            ItemRow.id,
            ItemRow.engagement_id,
            ItemRow.created_at,
            ItemRow.contract_end,
            ItemRow.snapshot,
            ItemRow.state,
            ItemRow.failure_kind,
        ).order_by(ItemRow.id)
    ).all()
    events = connection.execute(
        select(EventRow.item_id, EventRow.from_state, EventRow.to_state, EventRow.at)
        .order_by(EventRow.item_id, EventRow.at, EventRow.id)
        .execution_options(yield_per=20_000)  # streamed: 4 M events at 1 M items
    )
    tally = Tally()
    replayed = _replay(tally, items, events)
    updates = [
        {"item": item_id, **{f"new_{k}": v for k, v in r.milestones().items()}}
        for item_id, r in replayed.items()
    ]
    if updates:
        statement = (
            update(ItemRow)
            .where(ItemRow.id == bindparam("item"))
            .values({name: bindparam(f"new_{name}") for name in MILESTONES})
        )
        connection.execute(statement.execution_options(synchronize_session=False), updates)
    tally.write(connection)
    return len(items)


def _replay(tally: Tally, items: Iterable[Any], events: Iterable[Any]) -> dict[int, Replayed]:
    replayed: dict[int, Replayed] = {}
    for row in items:
        replayed[row.id] = Replayed(
            row.engagement_id, row.created_at, row.contract_end, row.snapshot
        )
        tally.state(row.engagement_id, None, (row.state, row.failure_kind))
    for item_id, came, to, at in events:
        found = replayed.get(item_id)
        if found is not None:
            tally.event(found, came, to, at)
    return replayed
