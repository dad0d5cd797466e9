"""The fleet at scale: N worker processes on one PostgreSQL, every record a real item writes.

`fleet_bench.py --scale 1,2,4,8 --items 20000` runs it. For each worker count, on a fresh
database: the items and one deferred job each (as `discover` defers them: item lock,
queueing lock, priority), then N worker processes of `--slots` concurrency work the jobs.
Each job's step does no portal work but writes what a quote item that is entered and
verified writes, in the same order: the run and the item read, the item taken (lease), the
worker's hand, the opportunity stored, priced (event and tallies), the intent recorded and
completed, entered, the expected quote and the snapshot stored, the findings, verified,
released, the hand emptied; the job itself fetched and finished by procrastinate.

Measured on the database's side (the figures a sizing needs): items per second, its
transactions per item (`pg_stat_database`), the CPU its server processes spent per item
(`/proc/PID/stat` of the backends serving this database, sampled), what the busy backends
waited on (`pg_stat_activity`, sampled), and the rows each table took per item
(`pg_stat_user_tables`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
from loguru import logger
from procrastinate import Blueprint
from sqlalchemy import create_engine, make_url, text

from audit.checks import check_quote
from audit.pricing import price
from audit.reference import read_opportunities
from sandbox.generate import generate
from sandbox.portal import Portal
from schemas.fleet import InHand
from schemas.quote import QuoteLineSnapshot, QuoteSnapshot
from schemas.rules import load_rules
from schemas.work import IntentAction, ItemState, RunKind
from store import Store, open_store, scratch_database

ENGAGEMENT = "scale"
TODAY = date(2026, 3, 2)
scale = Blueprint()


@dataclass(frozen=True)
class Records:
    """What one item stores: a real opportunity of the sandbox, its expected quote, the
    snapshot a faithful portal would show, and the audit's findings."""

    opportunity: dict[str, Any]
    expected: dict[str, Any]
    snapshot: dict[str, Any]
    findings: list[dict[str, Any]]


def _records() -> Records:
    with tempfile.TemporaryDirectory() as scratch:
        paths = generate(Path(scratch), 7, 20, TODAY, client="acme")
        rules = load_rules(paths.rules)
        with Portal(paths.db, today=TODAY) as portal:
            due = portal.opportunities_csv(
                end_from=TODAY + timedelta(days=90), end_to=TODAY + timedelta(days=150)
            )
            (Path(scratch) / "o.csv").write_text(due, encoding="utf-8")
        opportunities = read_opportunities(Path(scratch) / "o.csv")
    opportunity = max(
        (o for o in opportunities.values() if o.contract_end), key=lambda o: len(o.lines)
    )
    expected = price(opportunity, rules, TODAY)
    snapshot = QuoteSnapshot(
        quote_id="Q-SCALE",
        opportunity_id=expected.opportunity_id,
        quote_date=expected.quote_date,
        valid_until=expected.valid_until,
        currency=expected.currency,
        term_start=expected.term_start,
        term_end=expected.term_end,
        lines=tuple(
            QuoteLineSnapshot(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_amount=line.line_amount,
            )
            for line in expected.lines
        ),
        quote_total=expected.quote_total,
    )
    findings = check_quote(opportunity, snapshot, rules, prior_quote_ids=[])
    return Records(
        opportunity.model_dump(mode="json"),
        expected.model_dump(mode="json"),
        snapshot.model_dump(mode="json"),
        [f.model_dump(mode="json") for f in findings],
    )


class _Hand:
    """The worker's items in hand, written whole as `FleetProcess.hold` writes them."""

    def __init__(self, store: Store, name: str) -> None:
        self.store, self.name = store, name
        self.lock = threading.Lock()
        self.held: dict[int, InHand] = {}

    def hold(self, in_hand: InHand) -> None:
        with self.lock:
            self.held[in_hand.item_id] = in_hand
            self.store.worker_in_hand(self.name, list(self.held.values()))

    def let_go(self, item_id: int) -> None:
        with self.lock:
            self.held.pop(item_id, None)
            self.store.worker_in_hand(self.name, list(self.held.values()))


@scale.task(name="scale_item", pass_context=True)
def scale_item(context, *, run_id: int, item_id: int) -> str:  # type: ignore[no-untyped-def]
    """A quote item's records, no portal: read, take, price, intent, enter, verify, release."""
    extra = context.additional_context
    store: Store = extra["store"]
    records: Records = extra["records"]
    hand: _Hand = extra["hand"]
    worker = hand.name
    store.run(run_id)
    item = store.item(item_id)
    store.take_item(item_id, worker, 600)
    hand.hold(
        InHand(
            slot=f"{worker}-{threading.get_ident()}",
            engagement=ENGAGEMENT,
            kind=RunKind.QUOTE,
            run_id=run_id,
            item_id=item_id,
            opportunity_id=item.opportunity_id,
            since=store.now(),
        )
    )
    try:
        store.ensure_item(
            ENGAGEMENT,
            item.opportunity_id,
            contract_end=item.contract_end,
            account_name=item.account_name,
            data=records.opportunity,
        )
        total = records.expected["quote_total"]
        currency = records.expected["currency"]
        store.transition(
            item_id,
            ItemState.PRICED,
            run_id=run_id,
            worker=worker,
            data={"quote_total": total, "currency": currency},
        )
        store.intents(item_id)
        intent = store.record_intent(
            item_id, IntentAction.ENTER_QUOTE, item.reference, run_id=run_id
        )
        number = f"Q-{item_id:08d}"
        store.complete_intent(intent.id, number)
        store.transition(
            item_id, ItemState.ENTERED, run_id=run_id, worker=worker, data={"quote_number": number}
        )
        store.record_quote(item_id, number, records.expected, records.snapshot)
        store.record_findings(item_id, records.findings)
        store.transition(
            item_id,
            ItemState.VERIFIED,
            run_id=run_id,
            worker=worker,
            data={"findings": len(records.findings)},
        )
    finally:
        store.release(item_id, worker=worker)
        hand.let_go(item_id)
    return "verified"


def _worker_process(url: str, name: str, slots: int, records: Records, ready: Any) -> None:
    """One `quotebot worker`-like process: its row, then the jobs until none is left (the
    clock starts when every worker is ready: their start-up is not the database's cost)."""
    logger.remove()
    store = open_store(url)
    store.register_worker(name, "bench", os.getpid(), [ENGAGEMENT], slots)
    app = store.task_queue(scale)
    extra = {"store": store, "records": records, "hand": _Hand(store, name)}
    ready.wait()

    async def work() -> None:
        async with app.open_async():
            await app.run_worker_async(
                queues=[ENGAGEMENT],
                concurrency=slots,
                wait=False,
                install_signal_handlers=False,
                additional_context=extra,
                listen_notify=False,
            )

    asyncio.run(work())
    store.close()


def _seed(store: Store, items: int) -> tuple[int, list[int]]:
    store.ensure_engagement(ENGAGEMENT, "acme", "http://127.0.0.1:1/")
    run = store.start_run(ENGAGEMENT, RunKind.QUOTE, worker="fleet")
    ids = [
        store.ensure_item(
            ENGAGEMENT,
            f"OPP-{n:06d}",
            contract_end=TODAY + timedelta(days=100 + n % 50),
            account_name=f"Account {n % 997}",
            data={},
        ).id
        for n in range(items)
    ]
    return run.id, ids


def _defer(store: Store, run_id: int, ids: list[int]) -> None:
    app = store.task_queue(scale)

    async def go() -> None:
        async with app.open_async():
            for item_id in ids:
                await app.configure_task(
                    "quotebot:scale_item",
                    queue=ENGAGEMENT,
                    lock=f"item:{ENGAGEMENT}:{item_id}",
                    queueing_lock=f"quote:{ENGAGEMENT}:{item_id}",
                    priority=-(item_id % 50),
                ).defer_async(run_id=run_id, item_id=item_id)

    asyncio.run(go())


class _Sampler(threading.Thread):
    """Every 0.25 s: the CPU time of each server process serving the database, and what
    its busy backends wait on."""

    def __init__(self, server_url: str, database: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(server_url, pool_size=1)
        self.database = database
        self.cpu: dict[int, float] = {}
        self.waits: Counter[str] = Counter()
        self.locked: Counter[str] = Counter()
        """The statements waiting for a lock (a row another transaction is writing)."""
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        query = text(
            "SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, 'running') "
            "FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        )
        waiting = text(
            "SELECT substring(regexp_replace(query, '\\s+', ' ', 'g') "
            "from '^(UPDATE \\S+|INSERT INTO \\S+|DELETE FROM \\S+|SELECT .*? FROM \\S+)') "
            "FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"
        )
        with self.engine.connect() as conn:
            while not self.stop.wait(0.25):
                rows = conn.execute(query, {"db": self.database}).all()
                self.locked.update(
                    _short(q) for (q,) in conn.execute(waiting, {"db": self.database})
                )
                conn.rollback()
                self.samples += 1
                for pid, state, wait in rows:
                    if state == "active":
                        self.waits[wait] += 1
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
        self.engine.dispose()


def _short(statement: str | None) -> str:
    """`UPDATE tally_states`, `SELECT … FROM procrastinate_jobs`: what waits, on which table."""
    if not statement:
        return "other"
    words = statement.replace('"', "").split()
    return f"{words[0]} {words[-1]}"


def _counters(url: str) -> tuple[int, dict[str, int]]:
    """Transactions of the database so far, and rows written per table."""
    engine = create_engine(url, pool_size=1)
    with engine.connect() as conn:
        xacts = conn.execute(
            text(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        ).scalar_one()
        tables = {
            name: int(rows)
            for name, rows in conn.execute(
                text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables")
            )
        }
    engine.dispose()
    return int(xacts), tables


@dataclass(frozen=True)
class Step:
    """One worker count's figures."""

    workers: int
    items: int
    seconds: float
    xacts_per_item: float
    db_cpu_ms_per_item: float
    workers_cpu_ms_per_item: float
    waits: list[tuple[str, float]]
    row_locks: list[tuple[str, float]]
    rows_per_item: dict[str, float]

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


def _one_count(pg: str, seeded: str, workers: int, slots: int, records: Records) -> Step:
    copy = scratch_database(pg, "quotebot_scale", template=seeded)
    with copy as url, open_store(url) as store:
        items = len(store.items(ENGAGEMENT, state=ItemState.NEW))
        click.echo(f"  {workers} workers: {items:,} items, one job each, waiting")
        time.sleep(1.5)  # the statistics collector's counters are flushed each second
        xacts_before, rows_before = _counters(url)
        database = make_url(url).database or ""
        sampler = _Sampler(pg, database)
        sampler.start()
        cpu_before = os.times()
        spawn = multiprocessing.get_context("spawn")
        ready = spawn.Barrier(workers + 1)
        processes = [
            spawn.Process(target=_worker_process, args=(url, f"scale-{n}", slots, records, ready))
            for n in range(workers)
        ]
        for process in processes:
            process.start()
        ready.wait()
        started = time.perf_counter()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - started
        cpu_after = os.times()
        sampler.stop.set()
        sampler.join()
        time.sleep(1.5)
        xacts_after, rows_after = _counters(url)
        done = store.items(ENGAGEMENT, state=ItemState.VERIFIED)
        if len(done) != items:
            raise SystemExit(f"{len(done)} of {items} items verified: the benchmark is broken")
    worker_cpu = sum(cpu_after[2:4]) - sum(cpu_before[2:4])
    return Step(
        workers=workers,
        items=items,
        seconds=seconds,
        xacts_per_item=(xacts_after - xacts_before) / items,
        db_cpu_ms_per_item=1000 * sum(sampler.cpu.values()) / items,
        workers_cpu_ms_per_item=1000 * worker_cpu / items,
        waits=[(w, n / sampler.samples) for w, n in sampler.waits.most_common(4)],
        row_locks=[(what, n / sampler.samples) for what, n in sampler.locked.most_common(3)],
        rows_per_item={
            name: (rows_after.get(name, 0) - rows_before.get(name, 0)) / items
            for name in sorted(rows_after)
            if rows_after.get(name, 0) > rows_before.get(name, 0)
        },
    )


def run_scale(pg: str, counts: list[int], items: int, slots: int) -> None:
    """Each worker count on a fresh database; prints the figures and where it saturates."""
    logger.remove()
    records = _records()
    click.echo(
        f"fleet at scale: {items:,} items per count, worker processes of {slots} slots, "
        f"{os.cpu_count()} cores here (load {os.getloadavg()[0]:.1f}), PostgreSQL {pg}"
    )
    with scratch_database(pg, "quotebot_scale_seed") as seed_url:
        with open_store(seed_url) as store:
            started = time.perf_counter()
            run_id, ids = _seed(store, items)
            seeded = time.perf_counter() - started
            _defer(store, run_id, ids)
            deferred = time.perf_counter() - started - seeded
        click.echo(
            f"{items:,} items seeded in {seeded:.0f} s, their jobs deferred in {deferred:.0f} s;"
            " each worker count works a copy of that database"
        )
        template = make_url(seed_url).database or ""
        steps = []
        for n in counts:
            steps.append(_one_count(pg, template, n, slots, records))
            click.echo(  # as it goes: the largest counts take longest
                f"    {steps[-1].per_second:.1f} items/s, "
                f"{steps[-1].xacts_per_item:.1f} transactions and "
                f"{steps[-1].db_cpu_ms_per_item:.1f} ms of database CPU per item"
            )
    click.echo(
        "workers  items/s  x of 1 worker  transactions/item  DB CPU ms/item  workers CPU ms/item"
    )
    for step in steps:
        gain = step.per_second / steps[0].per_second
        click.echo(
            f"{step.workers:>7} {step.per_second:8.1f} {gain:14.2f}"
            f" {step.xacts_per_item:18.1f} {step.db_cpu_ms_per_item:15.2f}"
            f" {step.workers_cpu_ms_per_item:20.2f}"
        )
    for step in steps:
        waits = ", ".join(f"{w} {n:.1f}" for w, n in step.waits)
        click.echo(f"  {step.workers} workers, busy backends on average, by what they do: {waits}")
        locks = ", ".join(f"{name} {n:.1f}" for name, n in step.row_locks) or "none"
        click.echo(f"    waiting for a lock on average, by statement: {locks}")
    last = steps[-1]
    rows = ", ".join(f"{t} {n:.1f}" for t, n in last.rows_per_item.items())
    click.echo(f"rows written per item, by table: {rows}")
    cpu = statistics.median(s.db_cpu_ms_per_item for s in steps)
    click.echo(
        f"one PostgreSQL core carries at most about {1000 / cpu:.0f} items/s "
        f"(median DB CPU {cpu:.2f} ms per item)"
    )
    gains = [b.per_second / a.per_second for a, b in zip(steps, steps[1:], strict=False)]
    flat = next((steps[i + 1].workers for i, g in enumerate(gains) if g < 1.15), None)
    click.echo(
        f"saturates at {flat} workers (doubling gains < 15%)"
        if flat
        else "no saturation up to the largest count measured"
    )
