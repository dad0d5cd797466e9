"""What the alert rules read of the store's state: each engagement's latest finished runs,
its streak of system errors, the canary's last selector check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from schemas.alerts import SelectorCheck
from schemas.work import FailureKind, ItemState, Run, RunStatus
from store import _convert as convert
from store._base import StoreBase
from store._models import EventRow, ItemRow, RunRow, SelectorCheckRow


@dataclass(frozen=True)
class ErrorStreak:
    """An engagement's system errors (timeouts, 5xx, lost sessions) since its last success."""

    engagement: str
    first_at: datetime
    last_at: datetime
    errors: int


class AlertFactsMixin(StoreBase):
    def latest_finished_runs(self) -> list[Run]:
        """Each engagement's latest finished run of each kind."""
        with self._read() as session:
            latest = (
                select(func.max(RunRow.id))
                .where(RunRow.status != RunStatus.RUNNING.value)
                .group_by(RunRow.engagement_id, RunRow.kind)
            )
            rows = session.scalars(select(RunRow).where(RunRow.id.in_(latest)).order_by(RunRow.id))
            return [convert.run(r, self._engagement_name(session, r.engagement_id)) for r in rows]

    def error_streaks(self, since: datetime) -> list[ErrorStreak]:
        """Per engagement, its system errors since `since` that no success has followed."""
        query = (
            select(ItemRow.engagement_id, EventRow.at, EventRow.from_state, EventRow.to_state)
            .add_columns(EventRow.data)
            .join(ItemRow, ItemRow.id == EventRow.item_id)
            .where(EventRow.at >= since)
            .order_by(EventRow.at, EventRow.id)
        )
        streaks: dict[int, tuple[datetime, datetime, int] | None] = {}
        with self._read() as session:
            for engagement_id, at, came_from, went_to, data in session.execute(query):
                if (data or {}).get("kind") == FailureKind.SYSTEM.value:
                    first, _, n = streaks.get(engagement_id) or (at, at, 0)
                    streaks[engagement_id] = (first, at, n + 1)
                elif came_from != went_to and went_to != ItemState.FAILED.value:
                    streaks[engagement_id] = None  # the portal answered: the streak ends
            return [
                ErrorStreak(self._engagement_name(session, e), s[0], s[1], s[2])
                for e, s in sorted(streaks.items())
                if s is not None
            ]

    def record_selector_check(
        self, engagement: str, drifts: Sequence[str], error: str | None = None
    ) -> SelectorCheck:
        """The canary's result: the keys that match nothing (or why it could not look)."""
        now = self.now()
        with self._write() as session:
            self._engagement_id(session, engagement)
            row = session.get(SelectorCheckRow, engagement, with_for_update=True)
            if row is None:
                row = SelectorCheckRow(engagement=engagement)
                session.add(row)
            row.at, row.drifts, row.error = now, list(drifts), error
            return _check(row)

    def selector_checks(self) -> list[SelectorCheck]:
        with self._read() as session:
            rows = session.scalars(select(SelectorCheckRow).order_by(SelectorCheckRow.engagement))
            return [_check(r) for r in rows]


def _check(row: SelectorCheckRow) -> SelectorCheck:
    return SelectorCheck(
        engagement=row.engagement, at=row.at, drifts=tuple(row.drifts), error=row.error
    )
