"""Quality-control samples: verified quotes sent to the audit team's queue, and the people's
verdicts on them (the measured accuracy of the automatic audit)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, case, func, select

from schemas.forecast import SampleCounts
from schemas.work import ItemState, ReviewAction
from store._figures import FiguresMixin
from store._models import ItemRow, SampleRow

SAMPLE_STATES = (ItemState.VERIFIED.value, ItemState.BOOKED.value)
"""A sample waits in the queue while its quote is verified, or booked meanwhile."""
VERDICTS = {ReviewAction.ACCEPT: "agreed", ReviewAction.CORRECT: "disagreed"}
"""What an auditor's decision on a sample says about the automatic audit's "verified"."""


def sample_waiting() -> ColumnElement[bool]:
    """The item is a sample no one has decided yet (it is in the review queue)."""
    waiting = select(SampleRow.item_id).where(SampleRow.verdict.is_(None))
    return and_(ItemRow.state.in_(SAMPLE_STATES), ItemRow.id.in_(waiting))


class SamplesMixin(FiguresMixin):
    def add_sample(self, item_id: int, reason: str) -> bool:
        """Send a verified quote to the audit team's queue as a sample (`share`: drawn at
        random; `value`: above the engagement's threshold); False if it already is one."""
        now = self.now()
        with self._write() as session:
            row = self._item_row(session, item_id, lock=True)
            if row.state != ItemState.VERIFIED.value:
                return False
            added = session.scalar(
                self._insert(SampleRow)
                .values(
                    item_id=item_id,
                    engagement_id=row.engagement_id,
                    revision=row.revision,
                    reason=reason,
                    sampled_at=now,
                )
                .on_conflict_do_nothing(index_elements=["item_id", "revision"])
                .returning(SampleRow.id)
            )
            if added is None:
                return False
            row.queued_at = now
            return True

    def samples_waiting(self, item_ids: Sequence[int]) -> set[int]:
        """Which of these items are samples waiting for a person's verdict."""
        if not item_ids:
            return set()
        with self._read() as session:
            query = select(ItemRow.id).where(ItemRow.id.in_(item_ids), sample_waiting())
            return set(session.scalars(query))

    def sample_counts(
        self, engagement: str | None = None, *, within: Sequence[str] | None = None
    ) -> list[SampleCounts]:
        """Per engagement: verified quotes, samples (of them for their value), decided, and
        disagreed with "verified"."""
        with self._read() as session:
            if engagement is not None:
                self._engagement_id(session, engagement)  # UnknownEngagement if there is none
            names = {n: i for i, n in self._names_in_scope(session, engagement, within).items()}
            ids = list(names.values())
            verified = {
                e: int(n)
                for e, n in session.execute(
                    select(ItemRow.engagement_id, func.count())
                    .where(ItemRow.engagement_id.in_(ids), ItemRow.verified_at.is_not(None))
                    .group_by(ItemRow.engagement_id)
                )
            }
            counted = {
                e: (int(n), int(v), int(d), int(x))
                for e, n, v, d, x in session.execute(
                    select(
                        SampleRow.engagement_id,
                        func.count(),
                        func.sum(case((SampleRow.reason == "value", 1), else_=0)),
                        func.sum(case((SampleRow.verdict.is_not(None), 1), else_=0)),
                        func.sum(case((SampleRow.verdict == "disagreed", 1), else_=0)),
                    )
                    .where(SampleRow.engagement_id.in_(ids))
                    .group_by(SampleRow.engagement_id)
                )
            }
        return [
            SampleCounts(
                engagement=name,
                verified=int(verified.get(e, 0)),
                sampled=counted.get(e, (0, 0, 0, 0))[0],
                by_value=counted.get(e, (0, 0, 0, 0))[1],
                decided=counted.get(e, (0, 0, 0, 0))[2],
                disagreed=counted.get(e, (0, 0, 0, 0))[3],
            )
            for name, e in sorted(names.items())
        ]
