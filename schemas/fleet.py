"""The fleet's worker processes as operations see them: where each runs, what it works on,
what it holds right now and when it last said it was alive. No I/O here."""

from __future__ import annotations

from datetime import datetime

from schemas._base import Record
from schemas.work import RunKind


class InHand(Record):
    """One item a worker's slot is working on right now."""

    slot: str
    engagement: str
    kind: RunKind
    run_id: int
    item_id: int
    opportunity_id: str
    since: datetime


class FleetWorker(Record):
    """A `quotebot worker` process, as its row in the store says (`quotebot workers`)."""

    name: str
    """`host:pid`, unique while the process lives."""
    host: str
    pid: int
    engagements: tuple[str, ...]
    """The engagements it works; empty: every engagement of its engagements file."""
    slots: int
    started_at: datetime
    heartbeat_at: datetime
    in_hand: tuple[InHand, ...] = ()

    def age_s(self, now: datetime) -> float:
        """Seconds since its last heartbeat."""
        return max(0.0, (now - self.heartbeat_at).total_seconds())

    def alive(self, now: datetime, stalled_after_s: float) -> bool:
        """Alive unless silent longer than the fleet's stalled-worker time-out: past it,
        the queue gives its jobs to other workers."""
        return self.age_s(now) <= stalled_after_s
