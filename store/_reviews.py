"""The quote audit team's decisions: accept, correct (back to the bot) or escalate, with a note."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.work import ItemState, Review, ReviewAction, WorkItem
from store import _convert as convert
from store._errors import InvalidTransition, ItemChanged
from store._items import ItemsMixin
from store._models import ItemRow, ReviewRow, SampleRow
from store._people import add_trail
from store._samples import VERDICTS

# Where each decision moves an item, by the state it is in; escalating leaves it in place.
_MOVES: dict[tuple[ReviewAction, ItemState], ItemState] = {
    (ReviewAction.ACCEPT, ItemState.FLAGGED): ItemState.VERIFIED,
    (ReviewAction.CORRECT, ItemState.FLAGGED): ItemState.PRICED,
    (ReviewAction.CORRECT, ItemState.FAILED): ItemState.NEW,
    (ReviewAction.ESCALATE, ItemState.FLAGGED): ItemState.FLAGGED,
    (ReviewAction.ESCALATE, ItemState.FAILED): ItemState.FAILED,
    # A sample of a verified quote: agree (it stays), disagree (back to the bot), escalate.
    (ReviewAction.ACCEPT, ItemState.VERIFIED): ItemState.VERIFIED,
    (ReviewAction.CORRECT, ItemState.VERIFIED): ItemState.PRICED,
    (ReviewAction.ESCALATE, ItemState.VERIFIED): ItemState.VERIFIED,
    (ReviewAction.ACCEPT, ItemState.BOOKED): ItemState.BOOKED,
    (ReviewAction.ESCALATE, ItemState.BOOKED): ItemState.BOOKED,
}


def version(item: WorkItem | ItemRow) -> str:
    """What a reviewer saw: it changes with every move, revision and bot write of the item."""
    return f"{item.revision}:{ItemState(item.state).value}:{item.updated_at.isoformat()}"


_SAMPLED = (ItemState.VERIFIED, ItemState.BOOKED)


def _waiting_sample(session: Session, row: ItemRow) -> SampleRow | None:
    query = select(SampleRow).where(
        SampleRow.item_id == row.id,
        SampleRow.revision == row.revision,
        SampleRow.verdict.is_(None),
    )
    return session.scalar(query)


def _seen(row: ItemRow) -> dict[str, object]:
    return {"state": row.state, "revision": row.revision, "reference": row.reference}


class ReviewsMixin(ItemsMixin):
    def review(
        self,
        item_id: int,
        reviewer: str,
        action: ReviewAction | str,
        note: str,
        *,
        seen: str | None = None,
        reason: str | None = None,
    ) -> Review:
        """Record a reviewer's decision and apply it to the item, in one transaction.

        Accept: flagged → verified. Correct: flagged → priced (the bot re-enters it as a
        new revision) or, for a business failure whose data was fixed, failed → new.
        Escalate: the item stays put. On a sample of a verified quote (`add_sample`), accept
        is agreeing with the automatic audit and correct disagreeing (the quote goes back to
        the bot); either is its verdict. `InvalidTransition` for a decision the state lacks.
        With `seen` (the item's `version` when the reviewer opened it), `ItemChanged` if
        someone else moved it since: nothing is written. Every decision is also a line of
        the audit trail (before and after), with `reason` (e.g. approved exception).
        """
        action = ReviewAction(action)
        if not note.strip():
            raise ValueError("a review needs a note saying why")
        now = self.now()
        with self._write() as session:
            row = self._item_row(session, item_id, lock=True)
            if seen is not None and seen != version(row):
                raise ItemChanged(item_id, seen, version(row))
            came_from = ItemState(row.state)
            before = _seen(row)
            to = _MOVES.get((action, came_from))
            sample = _waiting_sample(session, row) if came_from in _SAMPLED else None
            if to is None or (came_from in _SAMPLED and sample is None):
                raise InvalidTransition(item_id, came_from, f"{action} (review)")
            if sample is not None and action in VERDICTS:
                sample.verdict, sample.reviewer, sample.decided_at = VERDICTS[action], reviewer, now
                if to is came_from:
                    row.queued_at = None  # agreed with: out of the queue
            review = ReviewRow(
                item_id=item_id,
                revision=row.revision,
                reviewer=reviewer,
                action=action.value,
                note=note,
                at=now,
            )
            session.add(review)
            if to is not came_from:
                data = {"review": action.value, "reviewer": reviewer}
                self._transition_row(session, row, to, run_id=None, reason=note, data=data)
            # Every decision changes the version, also an escalation that leaves the state.
            row.updated_at = now
            after = {**_seen(row), **({"reason": reason} if reason else {})}
            add_trail(
                session,
                now,
                reviewer,
                f"review_{action.value}",
                row.reference,
                item_id=item_id,
                note=note,
                before=before,
                after=after,
            )
            session.flush()
            return convert.record(Review, review)

    def reviews(self, item_id: int) -> list[Review]:
        """The item's review decisions, oldest first."""
        with self._read() as session:
            query = select(ReviewRow).where(ReviewRow.item_id == item_id).order_by(ReviewRow.id)
            return [convert.record(Review, row) for row in session.scalars(query)]
