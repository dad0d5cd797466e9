"""`Store`, the one object the bots, the scheduler and the web pages talk to, and `open_store`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from store._alert_facts import AlertFactsMixin
from store._alerts import AlertsMixin
from store._bulk import BulkMixin
from store._calendar import CalendarMixin
from store._claims import ClaimsMixin
from store._drift import DriftMixin
from store._engine import make_engine, migrate
from store._figures import FiguresMixin
from store._fleet_workers import FleetWorkersMixin
from store._intents import IntentsMixin
from store._jobs import JobsMixin
from store._people import PeopleMixin
from store._queries import QueriesMixin
from store._queue import QueueMixin
from store._records import RecordsMixin
from store._review_queue import ReviewQueueMixin
from store._reviews import ReviewsMixin
from store._runs import RunsMixin
from store._samples import SamplesMixin
from store._schedule_edits import ScheduleEditsMixin
from store._sessions import SessionsMixin
from store._sign_ins import SignInFailuresMixin
from store._types import utcnow


class Store(
    RunsMixin,
    ReviewsMixin,
    ClaimsMixin,
    IntentsMixin,
    RecordsMixin,
    QueriesMixin,
    ReviewQueueMixin,
    PeopleMixin,
    ScheduleEditsMixin,
    SessionsMixin,
    SignInFailuresMixin,
    JobsMixin,
    SamplesMixin,
    FiguresMixin,
    QueueMixin,
    BulkMixin,
    FleetWorkersMixin,
    AlertsMixin,
    AlertFactsMixin,
    CalendarMixin,
    DriftMixin,
):
    """Quotebot's persistence: engagements, runs, work items and their history.

    Every method is one short transaction and returns `schemas.work` records. One `Store`
    per process; it is safe to share between that process's threads.
    """


def open_store(url: str, *, clock: Callable[[], datetime] = utcnow) -> Store:
    """Open (and migrate to the newest schema) the store at a SQLAlchemy URL.

    `sqlite:///path/quotebot.sqlite` (one machine; several processes may share the file)
    or `postgresql+psycopg://user@host/db` (several machines); the settings'
    `effective_database_url` is the one configured.
    """
    engine = make_engine(url)
    try:
        migrate(engine)
        store = Store(engine, clock=clock)
        store.rebuild_tallies_if_missing()
    except BaseException:
        engine.dispose()
        raise
    return store
