"""What the store raises. Every error says which engagement, item, run or intent it is about."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors."""


class UnknownEngagement(StoreError, LookupError):
    """Raised when an engagement name was never registered with `ensure_engagement`."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown engagement {name!r}")
        self.name = name


class UnknownRecord(StoreError, LookupError):
    """Raised when an item, run or intent id does not exist."""

    def __init__(self, what: str, ident: int | str) -> None:
        super().__init__(f"no {what} {ident!r}")
        self.what = what
        self.ident = ident


class InvalidTransition(StoreError):
    """Raised when a work item is asked to move along an edge its state machine does not have."""

    def __init__(self, item_id: int, from_state: str, to_state: str) -> None:
        super().__init__(f"work item {item_id}: {from_state} → {to_state} is not allowed")
        self.item_id = item_id
        self.from_state = from_state
        self.to_state = to_state


class LeaseLost(StoreError):
    """Raised when a worker acts on an item it no longer holds (its lease ran out or was taken)."""

    def __init__(self, item_id: int, worker: str, holder: str | None) -> None:
        held = f"held by {holder!r}" if holder else "not claimed"
        super().__init__(f"work item {item_id}: worker {worker!r} has no lease ({held})")
        self.item_id = item_id
        self.worker = worker
        self.holder = holder


class RunAlreadyRunning(StoreError):
    """Raised by `start_run` when the engagement already has a run in progress."""

    def __init__(self, engagement: str, run_id: int | None) -> None:
        super().__init__(f"engagement {engagement!r} already has a running run (run {run_id})")
        self.engagement = engagement
        self.run_id = run_id


class RunNotRunning(StoreError):
    """Raised when finishing or heartbeating a run that has already ended (e.g. abandoned)."""

    def __init__(self, run_id: int, status: str) -> None:
        super().__init__(f"run {run_id} is {status}, not running")
        self.run_id = run_id
        self.status = status


class OpenIntentExists(StoreError):
    """Raised by `record_intent` while an earlier submit of the item is still unreconciled."""

    def __init__(self, item_id: int, intent_id: int, action: str) -> None:
        super().__init__(
            f"work item {item_id} has open intent {intent_id} ({action}): reconcile it with the "
            "portal before submitting again"
        )
        self.item_id = item_id
        self.intent_id = intent_id
        self.action = action


class IntentClosed(StoreError):
    """Raised when completing or cancelling an intent that is no longer open."""

    def __init__(self, intent_id: int, status: str) -> None:
        super().__init__(f"intent {intent_id} is already {status}")
        self.intent_id = intent_id
        self.status = status


class ItemChanged(StoreError):
    """Raised by `Store.review` when the item changed since the reviewer opened it
    (another auditor decided first, or a bot moved it): nothing is written."""

    def __init__(self, item_id: int, seen: str, now: str) -> None:
        self.item_id, self.seen, self.now = item_id, seen, now
        super().__init__(f"work item {item_id} changed since it was opened ({seen} → {now})")
