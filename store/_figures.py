"""The managers' figures' inputs: the tallies of a window of days (`schemas.figures`).

What a dashboard reads is a few thousand rows whatever the history's length: day-by-day
counts, duration buckets and state counts kept as items move (`store._tally`), the
window's findings, and the renewals still to do by their end date (from their own index).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from schemas.figures import Tallies
from store._base import StoreBase
from store._models import (
    STILL_TO_DO_WHERE,
    CountTallyRow,
    CycleTallyRow,
    EngagementRow,
    FindingRow,
    ItemRow,
    StateTallyRow,
)
from store._tally import rebuild


class FiguresMixin(StoreBase):
    def tallies(
        self,
        since: date,
        until: date,
        engagement: str | None = None,
        *,
        within: Sequence[str] | None = None,
    ) -> Tallies:
        """The tallies of the days `since`..`until` (UTC, inclusive) of every engagement, of
        one, or of those `within` (a person's own), as `audit.metrics.compute` takes them."""
        import pandas as pd

        start = datetime.combine(since, time.min, tzinfo=UTC)
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        with self._read() as session:
            names = self._names_in_scope(session, engagement, within)
            ids = list(names)

            def scoped(query: Any, column: Any) -> Any:
                return query.where(column.in_(ids))

            counts = session.execute(
                scoped(
                    select(
                        CountTallyRow.day,
                        CountTallyRow.engagement_id,
                        CountTallyRow.metric,
                        CountTallyRow.n,
                    ).where(CountTallyRow.day >= since, CountTallyRow.day <= until),
                    CountTallyRow.engagement_id,
                )
            ).all()
            cycles = session.execute(
                scoped(
                    select(
                        CycleTallyRow.engagement_id,
                        CycleTallyRow.span,
                        CycleTallyRow.bucket,
                        func.sum(CycleTallyRow.n),
                    )
                    .where(CycleTallyRow.day >= since, CycleTallyRow.day <= until)
                    .group_by(
                        CycleTallyRow.engagement_id, CycleTallyRow.span, CycleTallyRow.bucket
                    ),
                    CycleTallyRow.engagement_id,
                )
            ).all()
            findings_query = (
                select(FindingRow.rule, FindingRow.severity, func.count())
                .where(FindingRow.recorded_at >= start, FindingRow.recorded_at < end)
                .group_by(FindingRow.rule, FindingRow.severity)
            )
            if engagement is not None or within is not None:
                findings_query = findings_query.join(ItemRow, ItemRow.id == FindingRow.item_id)
                findings_query = scoped(findings_query, ItemRow.engagement_id)
            findings = session.execute(findings_query).all()
            ends = session.execute(
                scoped(
                    select(ItemRow.engagement_id, ItemRow.contract_end, func.count())
                    .where(text(STILL_TO_DO_WHERE))
                    .group_by(ItemRow.engagement_id, ItemRow.contract_end),
                    ItemRow.engagement_id,
                )
            ).all()
            states = session.execute(
                scoped(
                    select(
                        StateTallyRow.engagement_id,
                        StateTallyRow.state,
                        StateTallyRow.failure_kind,
                        StateTallyRow.n,
                    ).where(StateTallyRow.n != 0),
                    StateTallyRow.engagement_id,
                )
            ).all()

        def frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
            table = pd.DataFrame([tuple(r) for r in rows], columns=columns)
            if "engagement" in table:
                table["engagement"] = table["engagement"].map(names).astype(object)
            return table.astype({"n": "int64"})

        ends_frame = frame(ends, ["engagement", "contract_end", "n"])
        ends_frame["contract_end"] = pd.to_datetime(ends_frame["contract_end"])
        return Tallies(
            counts=frame(counts, ["day", "engagement", "metric", "n"]),
            cycles=frame(cycles, ["engagement", "span", "bucket", "n"]),
            findings=frame(findings, ["rule", "severity", "n"]),
            ends=ends_frame,
            states=frame(states, ["engagement", "state", "failure_kind", "n"]),
        )

    def _names_in_scope(
        self, session: Session, engagement: str | None, within: Sequence[str] | None
    ) -> dict[int, str]:
        """Engagement ids → names: every one, or `engagement`, or those `within` (or both)."""
        rows = session.execute(select(EngagementRow.id, EngagementRow.name)).all()
        return {
            i: name
            for i, name in rows
            if (engagement is None or name == engagement) and (within is None or name in within)
        }

    def rebuild_tallies(self) -> int:
        """Recount every figure's tally from the whole history (see `store._tally.rebuild`);
        the number of work items replayed."""
        with self._write() as session:
            return rebuild(session.connection())

    def rebuild_tallies_if_missing(self) -> bool:
        """A store with items but no state tally kept its history before it kept tallies
        (it came to migration 0009 with data): recount once, under the writer's lock, so
        that two processes opening it at once recount it once. True if it recounted."""

        def missing(session: Session) -> bool:
            has_items = session.scalar(select(ItemRow.id).limit(1)) is not None
            return has_items and session.scalar(select(StateTallyRow.n).limit(1)) is None

        with self._read() as session:
            if not missing(session):
                return False
        with self._write() as session:
            if self.dialect == "postgresql":
                session.execute(text("LOCK TABLE tally_states IN EXCLUSIVE MODE"))
            if not missing(session):
                return False
            items = rebuild(session.connection())
        logger.info("figures' tallies recounted from the history of {} work items", items)
        return True
