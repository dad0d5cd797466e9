"""Several workers, threads or processes, share one store without taking an item twice."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from test_store import db_url  # noqa: F401  (the SQLite / PostgreSQL fixture)

import store
from schemas.work import ItemState

ITEMS = 60


def seed(url: str) -> None:
    with store.open_store(url) as db:
        db.ensure_engagement("acme", "acme", "http://127.0.0.1:8001")
        for n in range(ITEMS):
            db.ensure_item(
                "acme",
                f"OPP-{n:03d}",
                contract_end=date(2027, 1, 1 + n % 28),
                account_name=f"Account {n}",
                data={},
            )


def work(db: store.Store, worker: str) -> list[int]:
    """What a bot does: claim, move the item on, let go; until nothing is left."""
    taken = []
    while (item := db.claim("acme", [ItemState.NEW], worker, lease_seconds=60)) is not None:
        db.transition(item.id, ItemState.PRICED, worker=worker)
        db.release(item)
        taken.append(item.id)
    return taken


def assert_each_item_taken_once(db: store.Store, taken: list[list[int]]) -> None:
    every = [item_id for worker in taken for item_id in worker]
    assert len(every) == ITEMS
    assert len(set(every)) == ITEMS
    assert db.counts("acme")[ItemState.PRICED] == ITEMS
    moves = Counter(e.item_id for e in db.events(engagement="acme") if e.to_state == "priced")
    assert set(moves.values()) == {1}


def test_threads_never_claim_an_item_twice(db_url: str) -> None:  # noqa: F811
    seed(db_url)
    start = threading.Barrier(4)

    def thread(n: int) -> list[int]:
        start.wait()
        return work(db, f"thread-{n}")

    with store.open_store(db_url) as db, ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(thread, range(4)))
        assert_each_item_taken_once(db, taken)


def _process(url: str, name: str, start: Any, results: Any) -> None:
    with store.open_store(url) as db:
        db.engagements()  # connected and warm: the processes then claim side by side
        start.wait()
        results.put((name, work(db, name)))


def _migrate(url: str, name: str, start: Any, results: Any) -> None:
    start.wait()  # then every process finds the database empty and migrates it
    with store.open_store(url) as db:
        results.put((name, db.engagements()))


def in_processes(url: str, count: int, target: Any = _process) -> dict[str, Any]:
    """Run `target` in `count` fresh Python processes that start together; what each returned."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(count), spawn.Queue()
    processes = [
        spawn.Process(target=target, args=(url, f"proc-{n}", start, results)) for n in range(count)
    ]
    for process in processes:
        process.start()
    for process in processes:
        # Results are a few hundred bytes: they fit the pipe, so joining first cannot block,
        # and a crashed child fails the test at once instead of after a queue timeout.
        process.join(timeout=60)
        assert process.exitcode == 0, f"{process.name} exited with {process.exitcode}"
    return dict(results.get(timeout=5) for _ in processes)


def test_processes_never_claim_an_item_twice(db_url: str) -> None:  # noqa: F811
    seed(db_url)
    taken = in_processes(db_url, 3)
    with store.open_store(db_url) as db:
        assert_each_item_taken_once(db, list(taken.values()))
    assert sum(1 for ids in taken.values() if ids) >= 2, "the processes did not overlap"


def test_processes_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:  # noqa: F811
    found = in_processes(db_url, 3, _migrate)
    assert found == {"proc-0": [], "proc-1": [], "proc-2": []}


def test_racing_schedulers_start_one_run(db_url: str) -> None:  # noqa: F811
    seed(db_url)
    start = threading.Barrier(4)

    def scheduler(n: int) -> str:
        start.wait()
        try:
            db.start_run("acme", "quote", worker=f"scheduler-{n}")
            return "started"
        except store.RunAlreadyRunning:
            return "refused"

    with store.open_store(db_url) as db, ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(scheduler, range(4)))
        assert outcomes == ["refused", "refused", "refused", "started"]
        assert len(db.runs("acme", status="running")) == 1
