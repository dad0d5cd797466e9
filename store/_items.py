"""Work items: one per opportunity, moved through the state machine, every move an event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from loguru import logger
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.work import FailureKind, IntentAction, IntentStatus, ItemState, WorkItem
from store import _convert as convert
from store._base import StoreBase
from store._errors import InvalidTransition, LeaseLost
from store._machine import allowed, reference
from store._models import EventRow, IntentRow, ItemRow
from store._tally import tally_of
from store._types import to_json

_TERMINAL = {ItemState.BOOKED, ItemState.FAILED}


def _event(
    session: Session,
    row: ItemRow,
    to: ItemState,
    at: datetime,
    run_id: int | None,
    reason: str | None,
    data: dict[str, Any] | None,
) -> None:
    tally_of(session).event(row, row.state, to.value, at)
    session.add(
        EventRow(
            item_id=row.id,
            from_state=row.state,
            to_state=to.value,
            at=at,
            run_id=run_id,
            reason=reason,
            data=data,
        )
    )


class ItemsMixin(StoreBase):
    def ensure_item(
        self,
        engagement: str,
        opportunity_id: str,
        *,
        contract_end: date | None,
        account_name: str,
        data: Mapping[str, Any] | BaseModel,
    ) -> WorkItem:
        """The work item of an opportunity, created on first sight (safe to call on every run).

        While the item is still `new` its portal data is refreshed; after that it is left
        alone, so a re-read never rewrites an item the bots have already priced.
        """
        payload = to_json(data, "data")
        now = self.now()
        with self._write() as session:
            engagement_id = self._engagement_id(session, engagement)
            insert = self._insert(ItemRow).values(
                engagement_id=engagement_id,
                opportunity_id=opportunity_id,
                reference=reference(engagement, opportunity_id, 0),
                revision=0,
                state=ItemState.NEW.value,
                account_name=account_name,
                contract_end=contract_end,
                data=payload,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            created = session.scalar(
                insert.on_conflict_do_nothing(
                    index_elements=["engagement_id", "opportunity_id"]
                ).returning(ItemRow.id)
            )
            if created is not None:
                session.add(EventRow(item_id=created, to_state=ItemState.NEW.value, at=now))
                tally_of(session).state(engagement_id, None, (ItemState.NEW.value, None))
            row = session.scalars(
                select(ItemRow)
                .where(ItemRow.engagement_id == engagement_id)
                .where(ItemRow.opportunity_id == opportunity_id)
                .with_for_update()
            ).one()
            fresh = (account_name, contract_end, payload)
            if row.state == ItemState.NEW.value and (
                (row.account_name, row.contract_end, row.data) != fresh
            ):
                row.account_name, row.contract_end, row.data = fresh
                row.updated_at = now
            return convert.item(row, engagement)

    def transition(
        self,
        item_id: int,
        to_state: ItemState | str,
        *,
        run_id: int | None = None,
        reason: str | None = None,
        data: Mapping[str, Any] | None = None,
        worker: str | None = None,
    ) -> WorkItem:
        """Move an item along its state machine and record the event, in one transaction.

        `InvalidTransition` for an edge the machine does not have; with `worker`, `LeaseLost`
        unless that worker holds the item. Use `fail` to move an item to `failed`.
        """
        to = ItemState(to_state)
        if to is ItemState.FAILED:
            raise ValueError("use Store.fail(item_id, kind, reason, code=...) to fail an item")
        payload = to_json(data or None, "data")
        with self._write() as session:
            row = self._locked(session, item_id, worker)
            self._transition_row(session, row, to, run_id=run_id, reason=reason, data=payload)
            return convert.item(row, self._engagement_name(session, row.engagement_id))

    def fail(
        self,
        item_id: int,
        kind: FailureKind | str,
        reason: str,
        *,
        code: str,
        run_id: int | None = None,
        data: Mapping[str, Any] | None = None,
        worker: str | None = None,
    ) -> WorkItem:
        """Give up on an item: bad data (business, to review) or retries exhausted (system)."""
        kind = FailureKind(kind)
        payload = {"kind": kind.value, "code": code, **to_json(dict(data or {}), "data")}
        with self._write() as session:
            row = self._locked(session, item_id, worker)
            came_from = ItemState(row.state)
            if not allowed(came_from, ItemState.FAILED):
                raise InvalidTransition(item_id, came_from, ItemState.FAILED)
            reason += _unknown_submits(session, item_id)
            before = (row.state, row.failure_kind)
            row.failure_kind, row.failure_code, row.failure_reason = kind.value, code, reason
            self._move(
                session, row, ItemState.FAILED, before, run_id=run_id, reason=reason, data=payload
            )
            return convert.item(row, self._engagement_name(session, row.engagement_id))

    def retry_later(
        self,
        item_id: int,
        *,
        code: str,
        reason: str,
        delay: timedelta,
        run_id: int | None = None,
        worker: str | None = None,
    ) -> WorkItem:
        """Count a system error and put the item back for a later attempt (after `delay`).

        The state does not change; the attempt is still an event (from = to) so that the
        history shows every timeout. The caller decides the backoff and when to `fail`.
        """
        now = self.now()
        with self._write() as session:
            row = self._locked(session, item_id, worker)
            if ItemState(row.state) in _TERMINAL:
                raise InvalidTransition(item_id, row.state, row.state)
            due = now + delay
            row.attempts += 1
            row.next_attempt_at = due
            payload = {
                "kind": FailureKind.SYSTEM.value,
                "code": code,
                "attempt": row.attempts,
                "next_attempt_at": due.isoformat(),
            }
            row.claimed_by = row.lease_until = None
            row.updated_at = now
            engagement = self._engagement_name(session, row.engagement_id)
            logger.bind(engagement=engagement, item=row.reference).info(
                "system error {} (attempt {}), retry after {}: {}", code, row.attempts, due, reason
            )
            _event(session, row, ItemState(row.state), now, run_id, reason, payload)
            return convert.item(row, engagement)

    def record_quote(
        self,
        item_id: int,
        quote_number: str,
        expected: Mapping[str, Any] | BaseModel,
        snapshot: Mapping[str, Any] | BaseModel,
    ) -> WorkItem:
        """Keep the expected quote and the read-back snapshot (money as strings) on the item."""
        expected_json = to_json(expected, "expected")
        snapshot_json = to_json(snapshot, "snapshot")
        with self._write() as session:
            row = self._item_row(session, item_id, lock=True)
            row.quote_number = quote_number
            row.expected, row.snapshot = expected_json, snapshot_json
            row.updated_at = self.now()
            return convert.item(row, self._engagement_name(session, row.engagement_id))

    def _locked(self, session: Session, item_id: int, worker: str | None) -> ItemRow:
        row = self._item_row(session, item_id, lock=True)
        # A worker keeps its item until another worker claims it after the lease ran out.
        if worker is not None and row.claimed_by != worker:
            raise LeaseLost(item_id, worker, row.claimed_by)
        return row

    def _transition_row(
        self,
        session: Session,
        row: ItemRow,
        to: ItemState,
        *,
        run_id: int | None,
        reason: str | None,
        data: dict[str, Any] | None,
    ) -> None:
        came_from = ItemState(row.state)
        if to is ItemState.FAILED or not allowed(came_from, to):
            raise InvalidTransition(row.id, came_from, to)
        before = (row.state, row.failure_kind)
        if came_from in (ItemState.FLAGGED, ItemState.VERIFIED) and to is ItemState.PRICED:
            # Sent back for correction: the corrected quote carries a new reference.
            engagement = self._engagement_name(session, row.engagement_id)
            row.revision += 1
            row.reference = reference(engagement, row.opportunity_id, row.revision)
        if came_from is ItemState.FAILED:
            row.failure_kind = row.failure_code = row.failure_reason = None
            row.attempts, row.next_attempt_at = 0, None
        sent_back = came_from is ItemState.VERIFIED and to is ItemState.PRICED  # a sample's
        if to is ItemState.VERIFIED or came_from is ItemState.FLAGGED or sent_back:
            # A step ends (quoting; an audit decision): the next step (booking; a corrected
            # quote) gets a budget of attempts of its own. Failed tries of the quote, long
            # since recovered, must not count against the booking.
            row.attempts, row.next_attempt_at = 0, None
        self._move(session, row, to, before, run_id=run_id, reason=reason, data=data)

    def _move(
        self,
        session: Session,
        row: ItemRow,
        to: ItemState,
        before: tuple[str, str | None],
        *,
        run_id: int | None,
        reason: str | None,
        data: dict[str, Any] | None,
    ) -> None:
        now = self.now()
        _event(session, row, to, now, run_id, reason, data)
        engagement = self._engagement_name(session, row.engagement_id)
        logger.bind(engagement=engagement, item=row.reference).debug(
            "work item {} → {}{}", row.state, to.value, f": {reason}" if reason else ""
        )
        row.state = to.value
        tally_of(session).state(row.engagement_id, before, (row.state, row.failure_kind))
        row.updated_at = now
        row.queued_at = now if _in_review_queue(to, row.failure_kind) else None
        if to in _TERMINAL:
            row.claimed_by = row.lease_until = None


def _in_review_queue(state: ItemState, failure_kind: str | None) -> bool:
    """The audit team decides flagged quotes and business failures (`review_queue`)."""
    return state is ItemState.FLAGGED or (
        state is ItemState.FAILED and failure_kind == FailureKind.BUSINESS.value
    )


_SUBMITS = {IntentAction.ENTER_QUOTE.value: "quote", IntentAction.ENTER_BOOKING.value: "booking"}


def _unknown_submits(session: Session, item_id: int) -> str:
    """What a failed item's reason must add when a submit of it is still open: nobody knows
    whether the portal holds that quote or booking, and whoever picks the item up has to
    look in the portal first (a failed item never keeps an open intent silently)."""
    rows = session.scalars(
        select(IntentRow)
        .where(IntentRow.item_id == item_id, IntentRow.status == IntentStatus.OPEN.value)
        .order_by(IntentRow.id)
    ).all()
    return "".join(
        f"; the outcome of its {_SUBMITS.get(r.action, r.action)} submit {r.reference} is "
        "unknown: look in the portal before entering it again"
        for r in rows
    )
