"""Several workers, threads or processes, share one store without taking an item twice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

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


# A bot process running `work` above, importing only the store so that it starts fast (it
# cannot import this module, which pulls in pytest and conftest). It waits for "go" twice:
# so that all processes open (and migrate) the new database at once, and then claim at once.
BOT_PROCESS = """
import json, sys
import store
from schemas.work import ItemState

url, name = sys.argv[1:]
print("started", flush=True)
sys.stdin.readline()
with store.open_store(url) as db:
    print("migrated", flush=True)
    sys.stdin.readline()
    taken = []
    while (item := db.claim("acme", [ItemState.NEW], name, lease_seconds=60)) is not None:
        if not taken:  # hold the first item until every process holds one: they overlap
            print("holding", flush=True)
            sys.stdin.readline()
        db.transition(item.id, ItemState.PRICED, worker=name)
        db.release(item)
        taken.append(item.id)
    print(json.dumps(taken), flush=True)
"""


def wait_for(processes: list[subprocess.Popen[str]], line: str) -> None:
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == f"{line}\n"


def go(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def test_processes_migrate_a_new_database_once_and_never_claim_an_item_twice(
    db_url: str,  # noqa: F811
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BOT_PROCESS, db_url, f"proc-{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    try:
        wait_for(processes, "started")
        go(processes)  # all open the empty database at once: racing migrations
        wait_for(processes, "migrated")
        seed(db_url)
        go(processes)  # all claim at once
        wait_for(processes, "holding")  # each holds a different item, at the same time
        go(processes)
        outputs = [process.communicate(timeout=60)[0] for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert [process.returncode for process in processes] == [0, 0, 0]
    taken = [json.loads(output) for output in outputs]
    with store.open_store(db_url) as db:
        assert_each_item_taken_once(db, taken)
    assert all(taken), "every process worked while the others held items"


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
