"""The store's work items, events and findings as DataFrames for `audit.metrics`."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import TextClause, text

from audit.metrics import Figures, compute
from store import Store

_QUOTE_DATE = {
    "sqlite": "json_extract(w.snapshot, '$.quote_date')",
    "postgresql": "(w.snapshot ->> 'quote_date')",
}


def _items_query(dialect: str) -> TextClause:
    quote_date = _QUOTE_DATE.get(dialect, "NULL")
    return text(
        f"SELECT w.id, e.name AS engagement, w.state, w.contract_end, {quote_date} AS quote_date "
        "FROM work_items w JOIN engagements e ON e.id = w.engagement_id ORDER BY w.id"
    )


# Time order matters: the metrics take each item's first event of a kind.
_EVENTS = text("SELECT item_id, from_state, to_state, at FROM item_events ORDER BY at, id")
_FINDINGS = text("SELECT item_id, rule, severity, recorded_at FROM findings")


def _utc(column: pd.Series) -> pd.Series:
    """Timestamps as stored (SQLite: naive UTC text; PostgreSQL: aware) → aware UTC."""
    return pd.to_datetime(column, utc=True, format="ISO8601")


def load(store: Store, engagement: str | None = None) -> tuple[pd.DataFrame, ...]:
    """(items, events, findings) of every engagement, or of one."""
    with store.engine.connect() as connection:
        items = pd.read_sql(_items_query(store.dialect), connection)
        events = pd.read_sql(_EVENTS, connection)
        findings = pd.read_sql(_FINDINGS, connection)
    if engagement:
        items = items[items["engagement"] == engagement]
        events = events[events["item_id"].isin(items["id"])]
        findings = findings[findings["item_id"].isin(items["id"])]
    items["contract_end"] = pd.to_datetime(items["contract_end"])
    items["quote_date"] = pd.to_datetime(items["quote_date"])
    events["at"] = _utc(events["at"])
    findings["recorded_at"] = _utc(findings["recorded_at"])
    return items, events, findings


def figures(
    store: Store,
    *,
    since: date | None,
    until: date | None,
    today: date,
    engagement: str | None = None,
) -> Figures:
    """The managers' figures for a window of days (default: the 30 days up to today, UTC)."""
    until = until or store.now().date()
    since = since or until - timedelta(days=29)
    items, events, findings = load(store, engagement)
    return compute(items, events, findings, since=since, until=until, today=today)
