"""Work items, their events and findings as DataFrames, for the managers' figures.

A million items and their events come back in well under two seconds: the figures need
columns, not records (`audit.metrics` documents the columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import TextClause, text

from store._base import StoreBase

if TYPE_CHECKING:  # pandas costs half a second to import: only the reports need it
    import pandas as pd

_QUOTE_DATE = {
    "sqlite": "json_extract(w.snapshot, '$.quote_date')",
    "postgresql": "(w.snapshot ->> 'quote_date')",
}
# Time order matters: the metrics take each item's first event of a kind.
_EVENTS = text("SELECT item_id, from_state, to_state, at FROM item_events ORDER BY at, id")
_FINDINGS = text("SELECT item_id, rule, severity, recorded_at FROM findings")


def _items_query(dialect: str) -> TextClause:
    quote_date = _QUOTE_DATE.get(dialect, "NULL")
    return text(
        "SELECT w.id, e.name AS engagement, w.state, w.failure_kind, w.contract_end, "
        f"{quote_date} AS quote_date "
        "FROM work_items w JOIN engagements e ON e.id = w.engagement_id ORDER BY w.id"
    )


def _utc(column: pd.Series) -> pd.Series:
    """Timestamps as stored (SQLite: naive UTC text; PostgreSQL: aware) → aware UTC."""
    import pandas as pd

    return pd.to_datetime(column, utc=True, format="ISO8601")


class FramesMixin(StoreBase):
    def metric_frames(
        self, engagement: str | None = None, *, within: Sequence[str] | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(items, events, findings) of every engagement, or of one, or of those `within`,
        as `audit.metrics` takes them."""
        import pandas as pd

        with self.engine.connect() as connection:
            items = pd.read_sql(_items_query(self.dialect), connection)
            events = pd.read_sql(_EVENTS, connection)
            findings = pd.read_sql(_FINDINGS, connection)
        if within is not None:
            items = items[items["engagement"].isin(list(within))]
        if engagement:
            items = items[items["engagement"] == engagement]
        if engagement or within is not None:
            events = events[events["item_id"].isin(items["id"])]
            findings = findings[findings["item_id"].isin(items["id"])]
        items["contract_end"] = pd.to_datetime(items["contract_end"])
        items["quote_date"] = pd.to_datetime(items["quote_date"])
        events["at"] = _utc(events["at"])
        findings["recorded_at"] = _utc(findings["recorded_at"])
        return items, events, findings
