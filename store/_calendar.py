"""The renewal calendar (every upcoming renewal, read ahead) and the measured throughput of
quoting runs: what the forecast is made from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from schemas.figures import LEAD_DAYS
from schemas.forecast import Renewal, RunThroughput
from schemas.opportunity import Opportunity
from schemas.work import FailureKind, ItemState, RunKind
from store._base import StoreBase
from store._models import EventRow, ItemRow, RenewalRow, RunRow

BUSINESS = FailureKind.BUSINESS.value


class CalendarMixin(StoreBase):
    def keep_renewals(self, engagement: str, renewals: Iterable[Renewal]) -> int:
        """Add or update upcoming renewals of an engagement (a value already known is kept
        when a listing without values is read again); how many were given."""
        now, kept = self.now(), 0
        with self._write() as session:
            engagement_id = self._engagement_id(session, engagement)
            for renewal in renewals:
                values = {
                    "engagement_id": engagement_id,
                    "opportunity_id": renewal.opportunity_id,
                    "account_name": renewal.account_name,
                    "contract_end": renewal.contract_end,
                    "annual_value": _text(renewal.annual_value),
                    "currency": renewal.currency,
                    "seen_at": now,
                }
                insert = self._insert(RenewalRow).values(values)
                table = RenewalRow.__table__.c
                session.execute(
                    insert.on_conflict_do_update(
                        index_elements=["engagement_id", "opportunity_id"],
                        set_={
                            "account_name": insert.excluded.account_name,
                            "contract_end": insert.excluded.contract_end,
                            "annual_value": func.coalesce(
                                insert.excluded.annual_value, table.annual_value
                            ),
                            "currency": func.coalesce(insert.excluded.currency, table.currency),
                            "seen_at": insert.excluded.seen_at,
                        },
                    )
                )
                kept += 1
        return kept

    def renewals(self, engagement: str, *, as_of: date | None = None) -> list[Renewal]:
        """The engagement's calendar, soonest contract end first: each renewal read ahead
        and each work item with a contract end, quoted (the day first entered) or not.

        With `as_of`, only what a forecast from that day needs: renewals not quoted yet,
        and quoted ones whose line is still ahead (a long history is not read)."""
        with self._read() as session:
            engagement_id = self._engagement_id(session, engagement)
            recent: ColumnElement[bool] = ItemRow.contract_end.is_not(None)
            kept: ColumnElement[bool] = RenewalRow.engagement_id == engagement_id
            if as_of is not None:
                ahead = as_of + timedelta(days=LEAD_DAYS)
                recent = or_(ItemRow.entered_at.is_(None), ItemRow.contract_end >= ahead)
                kept = and_(kept, RenewalRow.contract_end >= as_of - timedelta(days=365))
            items = {
                row.opportunity_id: row
                for row in session.execute(
                    select(
                        ItemRow.opportunity_id,
                        ItemRow.account_name,
                        ItemRow.contract_end,
                        ItemRow.entered_at,
                        ItemRow.failure_kind,
                        ItemRow.data,
                    ).where(
                        ItemRow.engagement_id == engagement_id,
                        ItemRow.contract_end.is_not(None),
                        recent,
                    )
                )
            }
            quoted_earlier: set[str] = set()
            if as_of is not None:  # quoted, line passed: not read above, not to come back
                quoted_earlier = set(
                    session.scalars(
                        select(ItemRow.opportunity_id).where(
                            ItemRow.engagement_id == engagement_id,
                            ItemRow.entered_at.is_not(None),
                            ItemRow.contract_end >= as_of - timedelta(days=365),
                            ItemRow.contract_end < as_of + timedelta(days=LEAD_DAYS),
                        )
                    )
                )
            found = []
            for row in session.scalars(select(RenewalRow).where(kept)):
                item = items.pop(row.opportunity_id, None)
                if item is None and row.opportunity_id in quoted_earlier:
                    continue
                entered = item.entered_at if item is not None else None
                value, currency = _value_of(item.data if item is not None else None)
                found.append(
                    Renewal(
                        engagement=engagement,
                        opportunity_id=row.opportunity_id,
                        account_name=row.account_name,
                        contract_end=row.contract_end,
                        annual_value=Decimal(row.annual_value) if row.annual_value else value,
                        currency=row.currency or currency,
                        quoted_on=entered.date() if entered else None,
                        needs_person=item is not None and item.failure_kind == BUSINESS,
                    )
                )
            for item in items.values():
                value, currency = _value_of(item.data)
                found.append(
                    Renewal(
                        engagement=engagement,
                        opportunity_id=item.opportunity_id,
                        account_name=item.account_name,
                        contract_end=item.contract_end,
                        annual_value=value,
                        currency=currency,
                        quoted_on=item.entered_at.date() if item.entered_at else None,
                        needs_person=item.failure_kind == BUSINESS,
                    )
                )
        return sorted(found, key=lambda r: (r.contract_end, r.opportunity_id))

    def run_throughput(self, engagement: str, *, last: int = 20) -> list[RunThroughput]:
        """The `last` finished quoting runs of an engagement that had something to quote:
        each one's start, its last item's move and its quotes entered (the forecast's
        throughput). A run that entered nothing is a measured zero when, as it finished,
        a renewal of the engagement still waited to be quoted (its item was new or priced);
        one that found nothing waiting had nothing to do and is not counted."""
        with self._read() as session:
            engagement_id = self._engagement_id(session, engagement)
            return _throughput(session, engagement_id, last)


WAITING = (ItemState.NEW.value, ItemState.PRICED.value)
"""An item in one of these states waits for a quoting run to enter its quote."""


def _throughput(session: Session, engagement_id: int, last: int) -> list[RunThroughput]:
    entered = func.coalesce(func.sum(case((EventRow.to_state == "entered", 1), else_=0)), 0)
    query = (
        select(
            RunRow.id,
            RunRow.started_at,
            func.coalesce(func.max(EventRow.at), RunRow.finished_at),
            entered,
            RunRow.finished_at,
        )
        .outerjoin(EventRow, EventRow.run_id == RunRow.id)
        .where(
            RunRow.engagement_id == engagement_id,
            RunRow.kind == RunKind.QUOTE.value,
            RunRow.finished_at.is_not(None),
        )
        .group_by(RunRow.id, RunRow.started_at, RunRow.finished_at)
        .order_by(RunRow.id.desc())
        .limit(last * 10)  # runs with nothing to do are skipped; a long idle spell ends it
    )
    found: list[RunThroughput] = []
    for run_id, started, until, n, finished in session.execute(query).all():
        if n or _work_waited(session, engagement_id, finished):
            found.append(
                RunThroughput(run_id=run_id, started_at=started, busy_until=until, entered=int(n))
            )
            if len(found) == last:
                break
    return found[::-1]


def _work_waited(session: Session, engagement_id: int, at: datetime) -> bool:
    """Whether some item of the engagement waited to be quoted at `at`: its last move by
    then left it new or priced (a run that entered nothing then is a measured zero)."""
    last_moves = (
        select(func.max(EventRow.id))
        .join(ItemRow, ItemRow.id == EventRow.item_id)
        .where(ItemRow.engagement_id == engagement_id, EventRow.at <= at)
        .group_by(EventRow.item_id)
    )
    waiting = select(EventRow.id).where(EventRow.id.in_(last_moves), EventRow.to_state.in_(WAITING))
    return session.execute(waiting.limit(1)).first() is not None


def _value_of(data: dict[str, Any] | None) -> tuple[Decimal | None, str | None]:
    """An item's annual value and currency from the opportunity its bot read (none before)."""
    if not data or "lines" not in data:
        return None, None
    try:
        opportunity = Opportunity.model_validate(data)
    except ValidationError:
        return None, None
    return opportunity.annual_value, opportunity.currency


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"
