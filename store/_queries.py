"""What the web pages and the reports read: items, their history, counts by state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, text

from schemas.work import ItemEvent, ItemState, Run, WorkItem, outcome_key
from store import _convert as convert
from store._base import StoreBase
from store._models import STILL_TO_DO_WHERE, EventRow, EvidenceRow, ItemRow, RunRow


@dataclass(frozen=True)
class RunWork:
    """One item a run worked on: the item now, the last thing the run did to it, and how
    many evidence files it has."""

    item: WorkItem
    last: ItemEvent
    evidence: int


@dataclass(frozen=True)
class RunPage:
    """A page of what a run did, failures first, and how many ended in each state."""

    work: list[RunWork]
    tally: dict[str, int]
    """Items per `schemas.work.OUTCOMES` key."""
    shown: int
    """How many items the chosen outcome has (all of them without one)."""


class QueriesMixin(StoreBase):
    def item(self, item_id: int) -> WorkItem:
        with self._read() as session:
            row = self._item_row(session, item_id)
            return convert.item(row, self._engagement_name(session, row.engagement_id))

    def item_for(self, engagement: str, opportunity_id: str) -> WorkItem | None:
        """The item of one opportunity, or None if it was never seen."""
        with self._read() as session:
            row = session.scalar(
                select(ItemRow)
                .where(ItemRow.engagement_id == self._engagement_id(session, engagement))
                .where(ItemRow.opportunity_id == opportunity_id)
            )
            return convert.item(row, engagement) if row else None

    def items(
        self,
        engagement: str | None = None,
        state: ItemState | str | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WorkItem]:
        """Work items in creation order, optionally of one engagement and/or in one state."""
        query = select(ItemRow).order_by(ItemRow.id).limit(limit).offset(offset)
        if state is not None:
            query = query.where(ItemRow.state == ItemState(state).value)
        return self._items(query, engagement)

    def _items(
        self,
        query: Select[ItemRow],
        engagement: str | None,
        within: Sequence[str] | None = None,
    ) -> list[WorkItem]:
        with self._read() as session:
            if within is not None:
                ids = [self._engagement_id(session, e) for e in within]
                query = query.where(ItemRow.engagement_id.in_(ids))
            if engagement is not None:
                query = query.where(
                    ItemRow.engagement_id == self._engagement_id(session, engagement)
                )
            return [
                convert.item(row, self._engagement_name(session, row.engagement_id))
                for row in session.scalars(query)
            ]

    def run_page(
        self,
        run_id: int,
        outcome: str | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
    ) -> RunPage:
        """What run `run_id` did to each item it touched (its last event of the run), the
        failed first; `outcome` (an `OUTCOMES` key: a state, or failed_business or
        failed_system) keeps one, `limit`/`offset` page it."""
        with self._read() as session:
            latest = session.execute(
                select(EventRow.item_id, EventRow.to_state, EventRow.id, EventRow.data)
                .where(EventRow.run_id == run_id)
                .order_by(EventRow.id)
            ).all()
            last = {
                item_id: (outcome_key(state, (data or {}).get("kind")), event_id)
                for item_id, state, event_id, data in latest
            }
            tally = Counter(key for key, _ in last.values())
            chosen = sorted(
                (i for i, (key, _) in last.items() if outcome in (None, key)),
                key=lambda i: (not last[i][0].startswith(ItemState.FAILED.value), i),
            )
            page = chosen[offset : offset + limit]
            rows = {r.id: r for r in session.scalars(select(ItemRow).where(ItemRow.id.in_(page)))}
            events = {
                e.id: e
                for e in session.scalars(
                    select(EventRow).where(EventRow.id.in_([last[i][1] for i in page]))
                )
            }
            files = dict(
                session.execute(
                    select(EvidenceRow.item_id, func.count())
                    .where(EvidenceRow.item_id.in_(page))
                    .group_by(EvidenceRow.item_id)
                ).all()
            )
            work = [
                RunWork(
                    convert.item(rows[i], self._engagement_name(session, rows[i].engagement_id)),
                    convert.record(ItemEvent, events[last[i][1]]),
                    int(files.get(i, 0)),
                )
                for i in page
            ]
        return RunPage(work, dict(tally), len(chosen))

    def recent_runs(self, within: Sequence[str] | None = None, limit: int = 100) -> list[Run]:
        """The newest runs first, of the engagements `within` (None: all), `limit` of them."""
        with self._read() as session:
            query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
            if within is not None:
                ids = [self._engagement_id(session, e) for e in within]
                query = query.where(RunRow.engagement_id.in_(ids))
            return [
                convert.run(row, self._engagement_name(session, row.engagement_id))
                for row in session.scalars(query)
            ]

    def held(self, engagement: str) -> list[WorkItem]:
        """The engagement's items a worker holds now (claimed, lease not run out)."""
        with self._read() as session:
            query = (
                select(ItemRow)
                .where(ItemRow.engagement_id == self._engagement_id(session, engagement))
                .where(ItemRow.claimed_by.is_not(None), ItemRow.lease_until > self.now())
                .order_by(ItemRow.id)
            )
            return [convert.item(row, engagement) for row in session.scalars(query)]

    def events(
        self,
        item_id: int | None = None,
        since: datetime | None = None,
        *,
        engagement: str | None = None,
        limit: int | None = None,
    ) -> list[ItemEvent]:
        """Item events in the order they happened (for cycle times and the audit trail)."""
        with self._read() as session:
            query = select(EventRow).order_by(EventRow.at, EventRow.id).limit(limit)
            if item_id is not None:
                query = query.where(EventRow.item_id == item_id)
            if since is not None:
                query = query.where(EventRow.at >= since)
            if engagement is not None:
                engagement_id = self._engagement_id(session, engagement)
                query = query.join(ItemRow, ItemRow.id == EventRow.item_id).where(
                    ItemRow.engagement_id == engagement_id
                )
            return [convert.record(ItemEvent, row) for row in session.scalars(query)]

    def counts(self, engagement: str | None = None) -> dict[ItemState, int]:
        """How many items are in each state (every state present, zero included)."""
        with self._read() as session:
            query = select(ItemRow.state, func.count()).group_by(ItemRow.state)
            if engagement is not None:
                query = query.where(
                    ItemRow.engagement_id == self._engagement_id(session, engagement)
                )
            found = {ItemState(state): n for state, n in session.execute(query)}
        return {state: found.get(state, 0) for state in ItemState}

    def still_to_do(self, engagement: str) -> int:
        """How many of the engagement's renewals are still to do (`schemas.work.STILL_TO_DO`):
        in a state of `STILL_TO_DO_STATES` and never entered (their own index counts them)."""
        with self._read() as session:
            query = select(func.count()).where(
                ItemRow.engagement_id == self._engagement_id(session, engagement),
                text(STILL_TO_DO_WHERE),
            )
            return int(session.scalar(query) or 0)
