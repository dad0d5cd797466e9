"""A synthetic history of many renewals, written in bulk: what capacity benchmarks read.

Not a demo and not for production data: `fill_synthetic` writes engagements, their daily
runs, work items in every state, their events and findings straight into the tables (in
chunks, no ORM objects), with the figures' tallies those events add up to, so that the
web pages can be measured against a million items.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from schemas.work import FailureKind, ItemState, RunKind, RunStatus
from store._base import StoreBase
from store._engine import writer
from store._machine import reference
from store._models import EngagementRow, EventRow, FindingRow, ItemRow, RunRow
from store._tally import Replayed, Tally

_CHUNK = 20_000
_RULES = ("unit_price", "discount_cap", "term_months", "currency", "line_total")
# (share of items, final state, the states it went through on the way)
_PATHS: tuple[tuple[float, ItemState, tuple[ItemState, ...]], ...] = (
    (0.10, ItemState.NEW, ()),
    (0.05, ItemState.PRICED, (ItemState.PRICED,)),
    (0.02, ItemState.ENTERED, (ItemState.PRICED, ItemState.ENTERED)),
    (0.05, ItemState.FLAGGED, (ItemState.PRICED, ItemState.ENTERED, ItemState.FLAGGED)),
    (0.03, ItemState.FAILED, (ItemState.FAILED,)),  # business: bad data, before pricing
    (0.02, ItemState.FAILED, (ItemState.PRICED, ItemState.FAILED)),  # system
    (0.33, ItemState.VERIFIED, (ItemState.PRICED, ItemState.ENTERED, ItemState.VERIFIED)),
    (
        0.40,
        ItemState.BOOKED,
        (ItemState.PRICED, ItemState.ENTERED, ItemState.VERIFIED, ItemState.BOOKED),
    ),
)


@dataclass(frozen=True)
class Filled:
    """What `fill_synthetic` wrote."""

    items: int
    events: int
    findings: int
    runs: int


class BulkMixin(StoreBase):
    def fill_synthetic(
        self,
        engagements: Sequence[str],
        items: int,
        *,
        until: date,
        days: int = 365,
        seed: int = 15,
    ) -> Filled:
        """Write `items` renewals spread over `engagements` and the `days` up to `until`:
        one quote run per engagement and day; 5 % flagged (with findings), 3 % failed on
        bad data, 2 % on the system, the rest on their way or done. Returns the counts."""
        rng = random.Random(seed)
        start = datetime.combine(until - timedelta(days=days - 1), datetime.min.time())
        start = start.replace(tzinfo=self.now().tzinfo)
        # One transaction per chunk: SQLite's write-ahead log stays small, readers go on.
        with writer(self.engine).connect() as connection:
            ids = [self._fill_engagement(connection, name, start) for name in engagements]
            runs = _insert_runs(connection, ids, start, days, self._next_id(connection, RunRow))
            first_item = self._next_id(connection, ItemRow)
            first_event = self._next_id(connection, EventRow)
            written = [0, 0]
            item_rows: list[dict[str, Any]] = []
            event_rows: list[dict[str, Any]] = []
            finding_rows: list[dict[str, Any]] = []
            tally = Tally()
            for n in range(items):
                item_id = first_item + n
                e = n % len(ids)
                day = rng.randrange(days)
                at = start + timedelta(days=day, hours=6, seconds=rng.randrange(3600))
                run_id = runs[e][day]
                _, state, path = _pick(rng)
                name = engagements[e]
                opportunity = f"OPP-{item_id:07d}"
                row = _item(item_id, ids[e], name, opportunity, state, path, at, rng)
                history = [_event_row(item_id, None, ItemState.NEW, at, run_id)]
                came = ItemState.NEW
                for step, to in enumerate(path, start=1):
                    when = at + timedelta(minutes=step)
                    if to is ItemState.BOOKED:
                        when = at + timedelta(days=2)
                    history.append(_event_row(item_id, came, to, when, run_id))
                    came = to
                # The tallies and milestones the store keeps as items move, from the same
                # definition (`store._tally`): the figures read them, not the history.
                replayed = Replayed(ids[e], at, row["contract_end"], row["snapshot"])
                for event in history:
                    tally.event(replayed, event["from_state"], event["to_state"], event["at"])
                tally.state(ids[e], None, (row["state"], row["failure_kind"]))
                row.update(replayed.milestones())
                item_rows.append(row)
                event_rows.extend(history)
                if state is ItemState.FLAGGED:
                    for rule in rng.sample(_RULES, rng.choice((1, 1, 2))):
                        finding_rows.append(_finding(item_id, opportunity, rule, at, rng))
                if len(item_rows) >= _CHUNK:
                    _flush(connection, item_rows, event_rows, finding_rows, written)
            _flush(connection, item_rows, event_rows, finding_rows, written)
            tally.write(connection)
            events = self._next_id(connection, EventRow) - first_event
            connection.commit()
            if self.dialect == "postgresql":
                for table in ("runs", "work_items", "item_events", "findings"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
            connection.commit()
        # The steady state autovacuum would reach: statistics, and PostgreSQL's visibility
        # map (without it an index-only scan still reads every row it counts).
        if self.dialect == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as plain:
                plain.exec_driver_sql("VACUUM ANALYZE")
        else:
            # In a transaction that commits: our SQLite engine opens one on every begin, and
            # in AUTOCOMMIT mode nothing commits it (the statistics were rolled back).
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        return Filled(items, events, written[1], sum(len(r) for r in runs))

    def _fill_engagement(self, connection: Connection, name: str, start: datetime) -> int:
        found = connection.scalar(select(EngagementRow.id).where(EngagementRow.name == name))
        if found is not None:
            return int(found)
        values = {"name": name, "flavour": "acme", "portal_url": "http://127.0.0.1:1/"}
        return int(
            connection.execute(
                insert(EngagementRow).values(**values, created_at=start).returning(EngagementRow.id)
            ).scalar_one()
        )

    @staticmethod
    def _next_id(connection: Connection, model: type[Any]) -> int:
        return int(connection.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1


def _pick(rng: random.Random) -> tuple[float, ItemState, tuple[ItemState, ...]]:
    roll = rng.random()
    for path in _PATHS:
        roll -= path[0]
        if roll < 0:
            return path
    return _PATHS[-1]


def _insert_runs(
    connection: Connection, engagement_ids: list[int], start: datetime, days: int, first: int
) -> list[list[int]]:
    """One finished quote run per engagement and day; the ids, by engagement then day."""
    rows, ids = [], []
    next_id = first
    for engagement_id in engagement_ids:
        ids.append(list(range(next_id, next_id + days)))
        for day in range(days):
            began = start + timedelta(days=day, hours=6)
            rows.append(
                {
                    "id": next_id,
                    "engagement_id": engagement_id,
                    "kind": RunKind.QUOTE.value,
                    "status": RunStatus.SUCCEEDED.value,
                    "worker": "synthetic",
                    "started_at": began,
                    "heartbeat_at": began + timedelta(hours=1),
                    "finished_at": began + timedelta(hours=1),
                    "counts": {},
                    "error": None,
                }
            )
            next_id += 1
    for chunk in _chunks(rows):
        connection.execute(insert(RunRow), chunk)
    return ids


def _item(
    item_id: int,
    engagement_id: int,
    engagement: str,
    opportunity: str,
    state: ItemState,
    path: tuple[ItemState, ...],
    at: datetime,
    rng: random.Random,
) -> dict[str, Any]:
    total = rng.randrange(1_000_00, 90_000_00)
    quoted = ItemState.ENTERED in path
    actual = (
        total + (rng.choice((-1, 1)) * rng.randrange(1, 500_00)) if state == "flagged" else total
    )
    failed = state is ItemState.FAILED
    business = failed and ItemState.PRICED not in path
    updated = at + timedelta(minutes=len(path))
    return {
        "id": item_id,
        "engagement_id": engagement_id,
        "opportunity_id": opportunity,
        "reference": reference(engagement, opportunity, 0),
        "revision": 0,
        "state": state.value,
        "account_name": f"Account {item_id % 50_000}",
        "contract_end": at.date() + timedelta(days=rng.randrange(30, 240)),
        "data": {},
        "quote_number": f"Q-{item_id}" if quoted else None,
        "order_number": f"SO-{item_id}" if state is ItemState.BOOKED else None,
        "expected": {"quote_total": f"{total / 100:.2f}"} if quoted else None,
        "snapshot": {"quote_total": f"{actual / 100:.2f}"} if quoted else None,
        "failure_kind": None
        if not failed
        else (FailureKind.BUSINESS if business else FailureKind.SYSTEM).value,
        "failure_code": None if not failed else ("unknown_sku" if business else "timeout"),
        "failure_reason": None if not failed else "synthetic failure",
        "attempts": 0,
        "next_attempt_at": None,
        "claimed_by": None,
        "lease_until": None,
        "queued_at": updated if state is ItemState.FLAGGED or business else None,
        "created_at": at,
        "updated_at": updated,
    }


def _event_row(
    item_id: int, came: ItemState | None, to: ItemState, at: datetime, run_id: int
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "from_state": came.value if came else None,
        "to_state": to.value,
        "at": at,
        "run_id": run_id,
        "reason": None,
        "data": None,
    }


def _finding(
    item_id: int, opportunity: str, rule: str, at: datetime, rng: random.Random
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "revision": 0,
        "quote_id": f"Q-{item_id}",
        "opportunity_id": opportunity,
        "sku": None,
        "line_no": None,
        "rule": rule,
        "severity": rng.choice(("error", "error", "warning")),
        "field": None,
        "expected": None,
        "actual": None,
        "message": f"synthetic {rule} finding",
        "recorded_at": at + timedelta(minutes=3),
    }


def _flush(
    connection: Connection,
    items: list[dict[str, Any]],
    events: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    written: list[int],
) -> None:
    # Unquoted items leave their quotes out, as `ensure_item` does: NULL, not JSON null.
    unquoted = [
        {k: v for k, v in row.items() if k not in ("expected", "snapshot")}
        for row in items
        if row["expected"] is None
    ]
    quoted = [row for row in items if row["expected"] is not None]
    for model, rows in (
        (ItemRow, quoted),
        (ItemRow, unquoted),
        (EventRow, events),
        (FindingRow, findings),
    ):
        if rows:
            connection.execute(insert(model), rows)
    connection.commit()
    written[0] += len(items)
    written[1] += len(findings)
    items.clear()
    events.clear()
    findings.clear()


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), _CHUNK):
        yield rows[i : i + _CHUNK]
