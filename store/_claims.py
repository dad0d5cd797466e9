"""Handing work items to workers: each item to one worker at a time, back after a lost lease."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import timedelta

from sqlalchemy import or_, select, update

from schemas.work import ItemState, WorkItem
from store import _convert as convert
from store._base import StoreBase
from store._errors import LeaseLost
from store._models import ItemRow


class ClaimsMixin(StoreBase):
    def claim(
        self,
        engagement: str,
        states: Iterable[ItemState | str],
        worker: str,
        lease_seconds: float = 300,
        *,
        exclude: Collection[int] = (),
    ) -> WorkItem | None:
        """Take the next due item in one of `states` for `worker`, or None when none is left.

        Soonest contract end first. An item is free when unclaimed or its lease ran out (its
        worker died), and due when its retry backoff has passed. Safe across threads,
        processes and machines: no two workers get the same item. Items in `exclude` (e.g.
        the ones a run already looked at and left alone) are passed over.
        """
        if isinstance(states, str):  # one state given bare: "new" is not ["n", "e", "w"]
            states = [states]
        wanted = [ItemState(state).value for state in states]
        now = self.now()
        with self._write() as session:
            engagement_id = self._engagement_id(session, engagement)
            candidate = (
                select(ItemRow.id)
                .where(ItemRow.engagement_id == engagement_id)
                .where(ItemRow.state.in_(wanted))
                .where(or_(ItemRow.lease_until.is_(None), ItemRow.lease_until <= now))
                .where(or_(ItemRow.next_attempt_at.is_(None), ItemRow.next_attempt_at <= now))
                .where(ItemRow.id.not_in(list(exclude)))
                .order_by(ItemRow.contract_end.asc().nulls_last(), ItemRow.id)
                .limit(1)
            )
            lease = {"claimed_by": worker, "lease_until": now + timedelta(seconds=lease_seconds)}
            if self.dialect == "postgresql":
                # Rows other workers are claiming right now are skipped, not waited for.
                found = session.scalar(candidate.with_for_update(skip_locked=True))
                if found is None:
                    return None
                target = ItemRow.id == found
            else:
                # SQLite: one conditional UPDATE picks and takes the row atomically (and the
                # transaction holds the write lock anyway: BEGIN IMMEDIATE).
                target = ItemRow.id == candidate.scalar_subquery()
            claimed = session.scalar(
                update(ItemRow)
                .where(target)
                .values(**lease)
                .returning(ItemRow.id)
                .execution_options(synchronize_session=False)
            )
            if claimed is None:
                return None
            row = self._item_row(session, claimed)
            return convert.item(row, engagement)

    def renew_lease(self, item_id: int, worker: str, lease_seconds: float = 300) -> WorkItem:
        """Extend `worker`'s hold on a long-running item; `LeaseLost` if another worker took it."""
        with self._write() as session:
            row = self._item_row(session, item_id, lock=True)
            if row.claimed_by != worker:
                raise LeaseLost(item_id, worker, row.claimed_by)
            row.lease_until = self.now() + timedelta(seconds=lease_seconds)
            return convert.item(row, self._engagement_name(session, row.engagement_id))

    def release(self, item: WorkItem | int, *, worker: str | None = None) -> None:
        """Give an item back (its worker is done with it for now). Never releases another
        worker's claim: with `worker` (or a claimed `WorkItem`) only that worker's hold is cleared.
        """
        item_id = item if isinstance(item, int) else item.id
        holder = worker or (None if isinstance(item, int) else item.claimed_by)
        if holder is None and not isinstance(item, int):
            return  # that snapshot of the item held no claim: nothing of ours to give back
        with self._write() as session:
            query = update(ItemRow).where(ItemRow.id == item_id)
            if holder is not None:
                query = query.where(ItemRow.claimed_by == holder)
            session.execute(
                query.values(claimed_by=None, lease_until=None).execution_options(
                    synchronize_session=False
                )
            )
