"""Exactly once in the portal: intents recorded before a submit, reconciled after a crash."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.work import Intent, IntentAction, IntentStatus
from store import _convert as convert
from store._base import StoreBase
from store._errors import IntentClosed, OpenIntentExists, UnknownRecord
from store._models import IntentRow, ItemRow


class IntentsMixin(StoreBase):
    def record_intent(
        self,
        item_id: int,
        action: IntentAction | str,
        reference: str,
        *,
        run_id: int | None = None,
    ) -> Intent:
        """Commit "about to submit" before the click; `OpenIntentExists` if one is open."""
        action = IntentAction(action)
        with self._write() as session:
            self._item_row(session, item_id, lock=True)  # serialises intents of one item
            earlier = session.scalar(
                select(IntentRow)
                .where(IntentRow.item_id == item_id)
                .where(IntentRow.action == action.value)
                .where(IntentRow.status == IntentStatus.OPEN.value)
            )
            if earlier is not None:
                raise OpenIntentExists(item_id, earlier.id, action)
            row = IntentRow(
                item_id=item_id,
                action=action.value,
                reference=reference,
                status=IntentStatus.OPEN.value,
                run_id=run_id,
                created_at=self.now(),
            )
            session.add(row)
            session.flush()
            return convert.record(Intent, row)

    def complete_intent(self, intent_id: int, portal_id: str, *, note: str | None = None) -> Intent:
        """The submit happened: keep the portal's quote or order number, also on the item."""
        with self._write() as session:
            row = self._open_intent(session, intent_id)
            row.status = IntentStatus.COMPLETED.value
            row.portal_id, row.note, row.closed_at = portal_id, note, self.now()
            item = self._item_row(session, row.item_id, lock=True)
            if row.action == IntentAction.ENTER_QUOTE.value:
                item.quote_number = portal_id
            else:
                item.order_number = portal_id
            item.updated_at = row.closed_at
            return convert.record(Intent, row)

    def cancel_intent(self, intent_id: int, note: str) -> Intent:
        """Reconciliation found nothing in the portal: the submit never happened."""
        with self._write() as session:
            row = self._open_intent(session, intent_id)
            row.status = IntentStatus.CANCELLED.value
            row.note, row.closed_at = note, self.now()
            return convert.record(Intent, row)

    def open_intents(self, engagement: str | None = None) -> list[Intent]:
        """Submits whose outcome is unknown (the process died): look each up in the portal."""
        with self._read() as session:
            query = (
                select(IntentRow)
                .where(IntentRow.status == IntentStatus.OPEN.value)
                .order_by(IntentRow.id)
            )
            if engagement is not None:
                query = query.join(ItemRow, ItemRow.id == IntentRow.item_id).where(
                    ItemRow.engagement_id == self._engagement_id(session, engagement)
                )
            return [convert.record(Intent, row) for row in session.scalars(query)]

    def intents(self, item_id: int) -> list[Intent]:
        with self._read() as session:
            query = select(IntentRow).where(IntentRow.item_id == item_id).order_by(IntentRow.id)
            return [convert.record(Intent, row) for row in session.scalars(query)]

    def _open_intent(self, session: Session, intent_id: int) -> IntentRow:
        row = session.scalar(select(IntentRow).where(IntentRow.id == intent_id).with_for_update())
        if row is None:
            raise UnknownRecord("intent", intent_id)
        if row.status != IntentStatus.OPEN.value:
            raise IntentClosed(intent_id, row.status)
        return row
