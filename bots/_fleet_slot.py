"""One slot of a fleet worker: a thread of its own with its own Playwright, and one logged-in
browser context per engagement, kept across jobs and recycled every N items."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from loguru import logger
from playwright.sync_api import Playwright, sync_playwright

from bots._attempt import Attempt, Kit, RetryLater
from bots._metrics import OK
from bots._outcomes import AttemptEnd
from bots._repair import open_ticket
from bots._steps import (
    BOOKING_STATES,
    QUOTE_STATES,
    record_discovery,
)
from bots._worker import BrowserWorker
from schemas.engagement import Engagement
from schemas.fleet import InHand
from schemas.work import ItemState, RunKind, RunStatus
from store import RunNotRunning

if TYPE_CHECKING:
    from bots._fleet_process import FleetProcess


class SlotBrowserWorker(BrowserWorker):
    """A worker whose open browser context holds one of its engagement's session places."""

    def __init__(
        self, fleet: FleetProcess, name: str, engagement: Engagement, playwright: Playwright
    ) -> None:
        # The kit once per slot and engagement: this worker lives as long as the slot.
        super().__init__(name, Kit.load(engagement, fleet.settings))
        self.fleet = fleet
        self._place = ExitStack()
        self._shared = playwright

    def __enter__(self) -> SlotBrowserWorker:
        # The slot's one Playwright: a thread can run only one sync Playwright at a time.
        self._playwright = self._shared
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_browser()
        self._playwright = None  # the slot stops it

    def _open(self) -> None:
        if self.engagement.max_sessions is not None:
            self._place.enter_context(
                self.fleet.store.portal_session(self.engagement.name, self.engagement.max_sessions)
            )
        try:
            super()._open()
        except BaseException:
            self._give_place_back()
            raise

    @property
    def signed_in(self) -> bool:
        """Holds an open portal session (a logged-in context)."""
        return self._bot is not None

    def close_context(self) -> None:
        # Signed out first: the place frees only once the portal's seat is free too.
        self.sign_out()
        super().close_context()
        self._give_place_back()

    def _give_place_back(self) -> None:
        """The session place back now when this worker's sessions are known closed; else
        once the portal's clock has certainly ended them (`portal_session_expiry_s`)."""
        if not self.unclosed:
            self._place.close()
            return
        held = self._place.pop_all()
        expiry = self.settings.portal_session_expiry_s
        self.log.warning("a session not seen to end keeps its place for {:.0f} s", expiry)
        timer = threading.Timer(expiry, held.close)
        timer.daemon = True
        timer.start()
        self.unclosed = False


class Slot:
    """Everything Playwright in a slot happens on `thread`, one job at a time."""

    def __init__(self, name: str, fleet: FleetProcess) -> None:
        self.name = name
        self.fleet = fleet
        self.thread = ThreadPoolExecutor(1, thread_name_prefix=name)
        self.workers: dict[str, SlotBrowserWorker] = {}
        self.busy = asyncio.Lock()
        self.playwright: Playwright | None = None
        self.last_used = time.monotonic()

    def _worker(self, engagement: str) -> SlotBrowserWorker:
        if engagement not in self.workers:
            eng = self.fleet.engagements[engagement]
            if self.playwright is None:
                self.playwright = sync_playwright().start()
            worker = SlotBrowserWorker(self.fleet, self.name, eng, self.playwright)
            worker.__enter__()
            self.workers[engagement] = worker
        return self.workers[engagement]

    def close_contexts(self) -> None:
        """Sign out and close every open context; browsers stay up for the next job."""
        for worker in self.workers.values():
            worker.close_context()

    def close(self) -> None:
        def _close() -> None:
            for worker in self.workers.values():
                worker.__exit__(None, None, None)
            self.workers.clear()
            if self.playwright is not None:
                self.playwright.stop()
                self.playwright = None

        self.thread.submit(_close).result()
        self.thread.shutdown()

    def discover(self, engagement: str, kind: str, today: str) -> list[dict[str, Any]]:
        """The items a run works: due renewals made items (quoting), verified ones (booking)."""
        store = self.fleet.store
        eng = self.fleet.engagements[engagement]
        if RunKind(kind) is RunKind.QUOTE:
            day = date.fromisoformat(today)
            ahead = day + timedelta(days=max(eng.window.days_to, eng.forecast.read_ahead_days))
            due = self._worker(engagement).bot.due_opportunities(day, ahead)
            record_discovery(store, eng, due, day)
            states: tuple[ItemState, ...] = QUOTE_STATES
        else:
            states = BOOKING_STATES
        items = [i for s in states for i in store.items(engagement, state=s)]
        if items:
            # Logged in before any item job exists: a refused bot user stops the run here.
            self._worker(engagement).bot  # noqa: B018
        return [
            {
                "id": i.id,
                "opportunity_id": i.opportunity_id,
                "contract_end": i.contract_end.isoformat() if i.contract_end else None,
            }
            for i in items
        ]

    def work(
        self, engagement: str, kind: RunKind, run_id: int, item_id: int, today: date, attempt: int
    ) -> str:
        """Attempt number `attempt` at one item; raises what is to be retried (the queue
        retries it, as `bots._outcomes.decide` says)."""
        store = self.fleet.store
        if store.run(run_id).status is not RunStatus.RUNNING:
            # Stopped by drift, or abandoned: the item waits for the next run.
            return AttemptEnd.RUN_ENDED
        item = store.item(item_id)
        states = QUOTE_STATES if kind is RunKind.QUOTE else BOOKING_STATES
        if item.state not in states:
            return AttemptEnd.already(item.state.value)  # a killed worker's attempt got this far
        worker = self._worker(engagement)
        store.take_item(item_id, worker.name, self.fleet.settings.fleet_timings.item_lease_s)
        started = time.monotonic()
        try:
            self.fleet.hold(
                InHand(
                    slot=self.name,
                    engagement=engagement,
                    kind=kind,
                    run_id=run_id,
                    item_id=item_id,
                    opportunity_id=item.opportunity_id,
                    since=store.now(),
                )
            )
            ending = Attempt(
                worker.kit,
                worker,
                store,
                run_id,
                kind,
                item,
                today,
                number=attempt,
                holder_seen=self.fleet.holder_seen,
            ).run()
        finally:
            store.release(item_id, worker=worker.name)
            self.fleet.let_go(self.name)
        if self.fleet.metrics is not None:
            took = time.monotonic() - started
            if ending.error is None:
                self.fleet.metrics.item_ended(engagement, kind, OK, took)
            else:
                self.fleet.metrics.failed(engagement, kind, ending.error, took)
        if ending.stops_run:
            assert ending.decision is not None
            # The run stops, the item is let go untouched; its other jobs see the run ended.
            found = ending.decision.failure
            if ending.error is not None:
                open_ticket(store, run_id, worker.kit.engagement, ending.error)
            try:
                store.finish_run(run_id, RunStatus.FAILED, {}, error=found.reason)
            except RunNotRunning:
                pass  # another slot stopped it first
            logger.bind(engagement=engagement, run=run_id, item=item_id).error(
                "run stopped: {} ({})", found.reason, found.code
            )
        elif ending.decision is not None and not ending.decision.gives_up:
            raise RetryLater(ending.decision) from ending.error  # the queue waits, then again
        return ending.key
