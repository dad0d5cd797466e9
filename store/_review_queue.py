"""The quote audit team's queue read a page at a time: filters, counts and order in SQL.

The queue is every item with `queued_at` set (flagged quotes, business failures and
quality-control samples waiting for a verdict), the
longest waiting first; a million work items cost no more than the page shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Numeric, Select, and_, cast, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from schemas.work import FailureKind, ItemState, ReviewAction, StoredFinding, WorkItem
from store import _convert as convert
from store._base import StoreBase
from store._models import FindingRow, ItemRow, ReviewRow
from store._samples import sample_waiting

QUEUE_ORDERS = ("waiting", "stake")
"""How the queue can be read: the longest waiting first, or by amount at stake, the largest
first within each currency (currencies one after the other, never ranked together)."""

SEVERITIES = ("error", "warning", "business", "sample")
"""A queued item's severity: an error finding, warnings only, bad data (a business
failure), or a verified quote sampled for quality control."""


@dataclass(frozen=True)
class QueueFilter:
    """What an auditor narrows the queue to (empty: everything they may see)."""

    engagement: str | None = None
    within: Sequence[str] | None = None
    """Only these engagements' items (a person's own); None: every engagement."""
    rule: str = ""
    severity: str = ""
    waiting_since: datetime | None = None
    """Only items in the queue since at least then."""
    escalated: bool | None = None
    currency: str = ""
    """Only quotes in this currency (ISO code)."""


def _currency() -> ColumnElement[Any]:
    """The quote's currency: the expected quote's, else the one read back."""
    return func.coalesce(
        ItemRow.expected["currency"].as_string(), ItemRow.snapshot["currency"].as_string()
    )


def _at_stake() -> ColumnElement[Any]:
    """The expected quote's total (money kept as text in the JSON), as a number to order by."""
    return cast(ItemRow.expected["quote_total"].as_string(), Numeric(28, 6))


def _ordered(query: Select[Any], order: str) -> Select[Any]:
    if order not in QUEUE_ORDERS:
        raise ValueError(f"no queue order {order!r}: one of {', '.join(QUEUE_ORDERS)}")
    if order == "stake":
        currency, stake = _currency(), _at_stake()
        # Currency first: amounts are only ever compared within one currency. Items with
        # no quote (bad data) come after every amount.
        query = query.order_by(currency.is_(None), currency, stake.is_(None), stake.desc())
    return query.order_by(ItemRow.queued_at, ItemRow.id)


def _escalated() -> ColumnElement[bool]:
    """The last decision on the item's current revision was an escalation. Read from the
    reviews' side once per query (decisions are few beside a queue of thousands)."""
    current = aliased(ItemRow)  # not the outer query's item: this runs once, uncorrelated
    last = (
        select(func.max(ReviewRow.id))
        .join(
            current,
            and_(current.id == ReviewRow.item_id, current.revision == ReviewRow.revision),
        )
        .group_by(ReviewRow.item_id)
    )
    escalated = select(ReviewRow.item_id).where(
        ReviewRow.id.in_(last), ReviewRow.action == ReviewAction.ESCALATE.value
    )
    return ItemRow.id.in_(escalated)


def _has_finding(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """The item has a finding that meets `conditions`: the findings are looked up once per
    query (by rule, from its index), not once per item of the queue."""
    return ItemRow.id.in_(select(FindingRow.item_id).where(*conditions))


def _business() -> ColumnElement[bool]:
    return and_(
        ItemRow.state == ItemState.FAILED.value,
        ItemRow.failure_kind == FailureKind.BUSINESS.value,
    )


def _flagged() -> ColumnElement[bool]:
    return ItemRow.state == ItemState.FLAGGED.value


class ReviewQueueMixin(StoreBase):
    def review_queue(
        self,
        engagement: str | None = None,
        *,
        within: Sequence[str] | None = None,
        where: QueueFilter | None = None,
        limit: int | None = None,
        offset: int = 0,
        order: str = "waiting",
    ) -> list[WorkItem]:
        """What the quote audit team has to decide: flagged quotes and business failures,
        the longest waiting first (an escalation keeps its place), or with `order="stake"`
        the largest amount at stake first within each currency; `within` keeps only
        those engagements' items, `where` narrows further, `limit`/`offset` page it."""
        where = where or QueueFilter(engagement=engagement, within=within)
        with self._read() as session:
            query = _ordered(self._queued(session, select(ItemRow), where), order)
            query = query.limit(limit).offset(offset)
            return [
                convert.item(row, self._engagement_name(session, row.engagement_id))
                for row in session.scalars(query)
            ]

    def review_queue_count(self, where: QueueFilter) -> int:
        """How many items of the queue `where` lets through."""
        with self._read() as session:
            query = self._queued(session, select(func.count()).select_from(ItemRow), where)
            return int(session.scalar(query) or 0)

    def review_currencies(self, within: Sequence[str] | None = None) -> list[str]:
        """The currencies of the quotes in the queue, to filter by."""
        with self._read() as session:
            query = self._queued(
                session, select(_currency()).distinct(), QueueFilter(within=within)
            )
            return sorted(c for c in session.scalars(query) if c)

    def review_rules(self, within: Sequence[str] | None = None) -> list[str]:
        """The rules (and bad-data codes) of what is in the queue, to filter by."""
        scope = QueueFilter(within=within)
        with self._read() as session:
            queued = self._queued(session, select(FindingRow.item_id), scope).join(
                ItemRow, ItemRow.id == FindingRow.item_id
            )
            rules = [
                rule
                for rule in session.scalars(select(FindingRow.rule).distinct())
                # From the rule's findings to their items: the first one queued answers.
                if session.scalar(queued.where(_flagged(), FindingRow.rule == rule).limit(1))
                is not None
            ]
            codes = self._queued(session, select(ItemRow.failure_code).distinct(), scope)
            rules += [c or "business" for c in session.scalars(codes.where(_business()))]
        return sorted(set(rules))

    def next_in_queue(self, item_id: int, within: Sequence[str] | None = None) -> int | None:
        """The item an auditor takes after `item_id`: the longest waiting one not escalated."""
        where = QueueFilter(within=within, escalated=False)
        with self._read() as session:
            query = self._queued(session, select(ItemRow.id), where).where(ItemRow.id != item_id)
            return session.scalar(query.order_by(ItemRow.queued_at, ItemRow.id).limit(1))

    def is_escalated(self, item_ids: Sequence[int]) -> dict[int, bool]:
        """For each item: whether the last decision on its current revision escalated it."""
        if not item_ids:
            return {}
        with self._read() as session:
            query = select(ItemRow.id, _escalated()).where(ItemRow.id.in_(item_ids))
            return {i: bool(e) for i, e in session.execute(query)}

    def findings_of(self, item_ids: Sequence[int]) -> dict[int, list[StoredFinding]]:
        """The findings of several items at once (a queue page's), each item's in order."""
        found: dict[int, list[StoredFinding]] = {i: [] for i in item_ids}
        if not item_ids:
            return found
        with self._read() as session:
            query = (
                select(FindingRow)
                .where(FindingRow.item_id.in_(item_ids))
                .order_by(FindingRow.item_id, FindingRow.id)
            )
            for row in session.scalars(query):
                found[row.item_id].append(convert.finding(row))
        return found

    def _queued(self, session: Session, query: Select[Any], where: QueueFilter) -> Select[Any]:
        """`query` narrowed to the queue's items that `where` lets through."""
        query = query.where(
            ItemRow.queued_at.is_not(None), or_(_flagged(), _business(), sample_waiting())
        )
        if where.within is not None:
            ids = [self._engagement_id(session, e) for e in where.within]
            query = query.where(ItemRow.engagement_id.in_(ids))
        if where.engagement is not None:
            query = query.where(
                ItemRow.engagement_id == self._engagement_id(session, where.engagement)
            )
        if rule := where.rule:
            query = query.where(
                or_(
                    and_(_flagged(), _has_finding(FindingRow.rule == rule)),
                    and_(
                        _business(), func.coalesce(ItemRow.failure_code, "business") == where.rule
                    ),
                )
            )
        error = _has_finding(FindingRow.severity == "error")
        severities = {
            "error": and_(_flagged(), error),
            "warning": and_(_flagged(), not_(error)),
            "business": _business(),
            "sample": sample_waiting(),
        }
        if where.severity:
            query = query.where(severities[where.severity])
        if where.waiting_since is not None:
            query = query.where(ItemRow.queued_at <= where.waiting_since)
        if where.escalated is not None:
            query = query.where(_escalated() if where.escalated else not_(_escalated()))
        if where.currency:
            query = query.where(_currency() == where.currency)
        return query
