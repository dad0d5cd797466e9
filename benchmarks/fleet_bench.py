"""Benchmark: the task engine's own overhead per work item (issue 13, point 5a).

    .venv/bin/python benchmarks/fleet_bench.py [--items 1000] [--slots 4]
                                               [--pg postgresql+psycopg://postgres@127.0.0.1/test]

Side by side, in one run, on one fresh PostgreSQL database each: N items whose step does
no portal work (it reads the item and records one state change, holding the item as an
item job does around the step functions), worked

- by the embedded pool: `slots` threads claiming items with the store's claim loop;
- by the fleet: one deferred procrastinate job per item (queueing lock, lock and priority
  as `discover` gives them), worked by one worker process of `slots` concurrency.

Prints items per second and milliseconds per item of each, and the fleet's overhead per
item beyond the pool's. Target (printed, never asserted): under 50 ms per item.

    .venv/bin/python benchmarks/fleet_bench.py --scale 1,2,4,8 --items 20000 [--slots 4]

The scale mode instead: 1, 2, 4 and 8 worker processes on one PostgreSQL, items that write
every record a real item writes; items per second, the database's transactions and CPU
per item, what it waits on, where it saturates (`_fleet_scale.py`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date, timedelta

import click
from _fleet_scale import run_scale
from loguru import logger
from procrastinate import App, Blueprint

from schemas.work import ItemState
from store import Store, open_store, scratch_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

bench = Blueprint()


@bench.task(name="noop_item", pass_context=True)
def noop_item(context, *, item_id: int) -> None:  # type: ignore[no-untyped-def]
    store: Store = context.additional_context["store"]
    store.take_item(item_id, "bench", 60)
    _step(store, item_id, "bench")
    store.release(item_id, worker="bench")


def _seed(store: Store, items: int) -> list[int]:
    store.ensure_engagement("bench", "acme", "http://127.0.0.1:1/")
    end = date(2026, 6, 1)
    return [
        store.ensure_item(
            "bench",
            f"OPP-{n:05d}",
            contract_end=end + timedelta(days=n % 90),
            account_name="Bench",
            data={},
        ).id
        for n in range(items)
    ]


def _pool(store: Store, slots: int) -> float:
    start = time.perf_counter()
    threads = [threading.Thread(target=_claim_each_once, args=(store,)) for _ in range(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def _claim_each_once(store: Store) -> None:
    while (item := store.claim("bench", ["new"], "bench-pool", 60)) is not None:
        _step(store, item.id, "bench-pool")
        store.release(item.id, worker="bench-pool")


def _step(store: Store, item_id: int, worker: str) -> None:
    """What an item costs besides the portal: read it, record one state change."""
    store.item(item_id)
    store.transition(item_id, ItemState.PRICED, worker=worker)


def _fleet(store: Store, ids: list[int], slots: int) -> float:
    app: App = store.task_queue(bench)

    async def go() -> float:
        async with app.open_async():
            start = time.perf_counter()
            for item_id in ids:
                await app.configure_task(
                    "quotebot:noop_item",
                    queue="bench",
                    lock=f"item:bench:{item_id}",
                    queueing_lock=f"quote:bench:{item_id}",
                    priority=-item_id % 90,
                ).defer_async(item_id=item_id)
            await app.run_worker_async(
                queues=["bench"],
                concurrency=slots,
                wait=False,
                install_signal_handlers=False,
                additional_context={"store": store},
            )
            return time.perf_counter() - start

    return asyncio.run(go())


@click.command()
@click.option("--items", type=int, default=1000, show_default=True)
@click.option("--slots", type=int, default=4, show_default=True)
@click.option("--pg", default=DEFAULT_PG, show_default=True, help="Server for the databases.")
@click.option(
    "--scale",
    default=None,
    help="Worker process counts, comma-separated (e.g. 1,2,4,8): the fleet at scale instead.",
)
def main(items: int, slots: int, pg: str, scale: str | None) -> None:
    if scale:
        run_scale(pg, [int(n) for n in scale.split(",")], items, slots)
        return
    logger.remove()  # the store's per-item debug lines would be most of what is timed
    results = {}
    for name in ("pool", "fleet"):
        with scratch_database(pg, "quotebot_i13_bench") as url, open_store(url) as store:
            ids = _seed(store, items)
            took = _pool(store, slots) if name == "pool" else _fleet(store, ids, slots)
        results[name] = took
        click.echo(
            f"{name:<6} {items} items, {slots} slots: {took:6.2f} s, "
            f"{items / took:7.1f} items/s, {1000 * took / items:6.2f} ms/item"
        )
    extra = 1000 * (results["fleet"] - results["pool"]) / items
    ratio = results["fleet"] / results["pool"]
    click.echo(f"fleet / pool time: {ratio:.2f}; engine overhead {extra:.2f} ms/item (target < 50)")


if __name__ == "__main__":
    main()
