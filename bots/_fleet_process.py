"""One fleet worker process: what its jobs share (settings, store, engagements, browser
slots), the items its slots hold, its heartbeat in the store's `fleet_workers` row."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loguru import logger

from bots._fleet_slot import Slot
from bots._metrics import Metrics
from bots._outcomes import failure
from schemas.engagement import Engagement
from schemas.fleet import InHand
from schemas.settings import Settings
from store import Store, UnknownRecord


@dataclass
class FleetProcess:
    """What the jobs of one worker process share: settings, store, engagements, slots."""

    settings: Settings
    store: Store
    engagements: Mapping[str, Engagement]
    slots: int
    chosen: tuple[str, ...] = ()
    """The engagements it was told to work (`--engagement`); empty: every one."""
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    free: asyncio.Queue[Slot] | None = None
    counts: Counter[str] = field(default_factory=Counter)
    metrics: Metrics | None = None
    last_beat: float | None = None
    """`time.monotonic()` of the last heartbeat written to the store."""
    _slots: list[Slot] = field(default_factory=list)
    _in_hand: dict[str, InHand] = field(default_factory=dict)
    _hand_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}"

    def register(self) -> None:
        """This process's row in the store, for `quotebot workers`."""
        self.store.register_worker(self.name, self.host, self.pid, self.chosen, self.slots)
        with self._hand_lock:
            self.store.worker_in_hand(self.name, list(self._in_hand.values()))
        self.last_beat = time.monotonic()

    def heartbeat_age(self) -> float | None:
        """Seconds since this process's heartbeat was last written (None: not yet)."""
        return None if self.last_beat is None else time.monotonic() - self.last_beat

    def open_sessions(self) -> dict[str, int]:
        """The portal sessions this process's slots hold open, per engagement."""
        held: Counter[str] = Counter()
        for slot in self._slots:
            for name, worker in list(slot.workers.items()):
                held[name] += worker.signed_in
        return dict(held)

    def holder_seen(self, item_id: int) -> datetime | None:
        """When another worker holding the item (alive or not) last said it was alive."""
        beats = [
            worker.heartbeat_at
            for worker in self.store.fleet_workers()
            if worker.name != self.name and any(h.item_id == item_id for h in worker.in_hand)
        ]
        return max(beats, default=None)

    def hold(self, in_hand: InHand) -> None:
        """A slot starts an item: the store shows it in this worker's hand."""
        with self._hand_lock:  # the whole hand written in order, one slot at a time
            self._in_hand[in_hand.slot] = in_hand
            self.store.worker_in_hand(self.name, list(self._in_hand.values()))

    def let_go(self, slot: str) -> None:
        """A slot ends its item (done, failed or handed back to the queue)."""
        with self._hand_lock:
            if self._in_hand.pop(slot, None) is not None:
                self.store.worker_in_hand(self.name, list(self._in_hand.values()))

    async def beat(self, every_s: float) -> None:
        """The worker's heartbeat in its row; a row removed by hand is written again."""
        log = logger.bind(worker=self.name)
        while True:
            await asyncio.sleep(every_s)
            try:
                await asyncio.to_thread(self.store.worker_beat, self.name)
                self.last_beat = time.monotonic()
            except UnknownRecord:
                await asyncio.to_thread(self.register)
            except Exception as exc:  # the database away: try again next beat
                log.warning("heartbeat not written: {}", failure(exc).reason)

    def open_slots(self) -> list[Slot]:
        self.free = asyncio.Queue()
        made = [Slot(f"{self.name}:s{i}", self) for i in range(self.slots)]
        self._slots = made
        for slot in made:
            self.free.put_nowait(slot)
        return made

    async def in_slot(self, method: str, *args: Any) -> Any:
        """Run a slot's method in that slot's own thread: its Playwright never changes
        threads, so its logged-in contexts are reused from job to job."""
        assert self.free is not None, "open_slots first"
        slot = await self.free.get()
        try:
            async with slot.busy:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(slot.thread, getattr(slot, method), *args)
        finally:
            slot.last_used = time.monotonic()
            self.free.put_nowait(slot)

    async def sign_out_idle(self, slots: list[Slot], idle_s: float) -> None:
        """Contexts of slots left without work sign out: their session places go to the
        slots (of any worker) waiting for one, instead of staying held by idle browsers."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(idle_s / 2)
            for slot in slots:
                if slot.busy.locked() or not slot.workers:
                    continue
                if time.monotonic() - slot.last_used < idle_s:
                    continue
                async with slot.busy:
                    await loop.run_in_executor(slot.thread, slot.close_contexts)
