"""Quotebot's persistence: work items, their events, findings and runs.

`open_store(url)` migrates the database and returns the `Store`; every method takes and
returns `schemas.work` records.
"""

from store._alert_facts import ErrorStreak
from store._errors import (
    IntentClosed,
    InvalidTransition,
    ItemChanged,
    LeaseLost,
    OpenIntentExists,
    RunAlreadyRunning,
    RunNotRunning,
    StoreError,
    UnknownEngagement,
    UnknownRecord,
)
from store._machine import ALLOWED_TRANSITIONS, reference
from store._queue import NeedsPostgres
from store._review_queue import QUEUE_ORDERS, SEVERITIES, QueueFilter
from store._reviews import version
from store._scratch import fresh_schema, scratch_database
from store._store import Store, open_store

__all__ = [
    "ErrorStreak",
    "ALLOWED_TRANSITIONS",
    "IntentClosed",
    "InvalidTransition",
    "ItemChanged",
    "LeaseLost",
    "NeedsPostgres",
    "OpenIntentExists",
    "QUEUE_ORDERS",
    "QueueFilter",
    "RunAlreadyRunning",
    "SEVERITIES",
    "RunNotRunning",
    "Store",
    "StoreError",
    "UnknownEngagement",
    "UnknownRecord",
    "fresh_schema",
    "open_store",
    "reference",
    "scratch_database",
    "version",
]
