"""Benchmark: the memory of one fleet worker process, with 1 and with 2 browser slots
(issue 13: sizing the fleet's machines).

    .venv/bin/python benchmarks/fleet_memory.py [--opportunities 12] [--slots 1,2]
                                                [--pg postgresql+psycopg://postgres@127.0.0.1/test]

For each slot count, on a fresh acme sandbox portal (a process of its own) and a fresh
PostgreSQL database: one `quotebot worker --slots N`, measured

- idle, registered and waiting for jobs, before any browser starts: the baseline (Python,
  procrastinate, the store; Playwright's driver is not running yet);
- after a quote run of `--opportunities` renewals worked by its slots, while its
  browsers are still up (they stay up between jobs; only their sessions sign out).

Each figure sums /proc/PID/smaps_rollup over the worker and every descendant (Playwright's
node driver, each slot's Chromium and its renderers, GPU and utility processes). RSS
counts a page shared by several processes once per process and so overstates; PSS shares
each such page out among them, so PSS sums to what the tree really costs. Prints the
per-process split, memory per browser slot (the growth over the idle baseline, per slot)
and per worker. Nothing is asserted.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import click
from bot_bench import (
    PASSWORD_ENV,
    REPO,
    TODAY,
    USER_ENV,
    Portal,
    _engagement,
    _processes,
    fleet_env,
    process_tree,
    write_engagement,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Memory:
    """Summed smaps_rollup figures of a process tree, in MiB, and what it consisted of."""

    rss: float
    pss: float
    processes: dict[str, int]
    """Process count per kind: worker, driver, chromium."""
    pss_by_kind: dict[str, float]


def _rollup_kb(pid: int) -> tuple[int, int]:
    """(Rss, Pss) of one process in kB; (0, 0) for one that is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "worker"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "gone"
    if "chrom" in Path(argv0).name:
        return "chromium"
    return "driver" if Path(argv0).name == "node" else Path(argv0).name


def tree_memory(root: int) -> Memory:
    """The worker `root` and all its descendants, summed."""
    rss = pss = 0
    counts: dict[str, int] = {}
    by_kind: dict[str, float] = {}
    for pid in process_tree(root, _processes()):
        r, p = _rollup_kb(pid)
        kind = _kind(pid, root)
        rss, pss = rss + r, pss + p
        counts[kind] = counts.get(kind, 0) + 1
        by_kind[kind] = by_kind.get(kind, 0.0) + p / 1024
    return Memory(rss / 1024, pss / 1024, counts, by_kind)


def measure(slots: int, opportunities: int, root: Path, pg: str) -> tuple[Memory, Memory, dict]:
    """One worker of `slots` slots: its memory idle, and after a quote run."""
    from bots import start_fleet_run, tasks
    from sandbox.generate import load_credentials
    from schemas.settings import Settings
    from schemas.work import RunStatus
    from store import open_store, scratch_database

    work = root / f"slots-{slots}"
    portal = Portal(work / "portal", opportunities, 0)
    try:
        credentials = load_credentials(work / "portal")
        engagement = _engagement(portal.url, work / "portal", 1)
        config = write_engagement(engagement, work)
        with scratch_database(pg, "quotebot_bench") as db, open_store(db) as store:
            settings = Settings(home=work / "home", database_url=db, fleet=True)
            credential_env = {USER_ENV: credentials.username, PASSWORD_ENV: credentials.password}
            # Idle slots sign out (their browsers stay up): not before the figures are read.
            env = fleet_env(
                settings.home, db, QUOTEBOT_FLEET_TIMINGS__IDLE_SIGN_OUT_S="120", **credential_env
            )
            command = [sys.executable, "-m", "quotebot", "worker", "--slots", str(slots)]
            with (work / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [*command, "--engagements", str(config)],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                _until(lambda: len(store.fleet_workers()) == 1, worker, work)
                time.sleep(1.0)  # settled: imports done, the queue's connections open
                idle = tree_memory(worker.pid)
                app = store.task_queue(tasks)
                with app.open():
                    run = start_fleet_run(store, app, engagement, "quote", TODAY, settings)
                _until(lambda: store.run(run.id).status is not RunStatus.RUNNING, worker, work)
                run = store.run(run.id)
                after = tree_memory(worker.pid)
            finally:
                worker.terminate()
                worker.wait(timeout=120)
    finally:
        portal.close()
    return idle, after, {str(k): v for k, v in run.counts.items()}


def _until(done: object, worker: subprocess.Popen[bytes], work: Path) -> None:
    deadline = time.monotonic() + 600
    while not done():  # type: ignore[operator]
        if worker.poll() is not None:
            raise click.ClickException(f"the worker exited early; see {work}/worker.log")
        if time.monotonic() > deadline:
            raise click.ClickException("no result in 10 minutes")
        time.sleep(0.2)


def _line(label: str, m: Memory) -> str:
    split = ", ".join(
        f"{kind} {m.processes[kind]}x {m.pss_by_kind[kind]:.0f}" for kind in sorted(m.processes)
    )
    return f"{label:<22} RSS {m.rss:7.0f} MiB   PSS {m.pss:7.0f} MiB   (PSS by process: {split})"


@click.command()
@click.option("--opportunities", type=click.IntRange(2, 500), default=12, show_default=True)
@click.option("--slots", "slot_list", default="1,2", show_default=True)
@click.option("--pg", default=DEFAULT_PG, show_default=True, help="Server for the databases.")
def main(opportunities: int, slot_list: str, pg: str) -> None:
    counts = [int(n) for n in slot_list.split(",") if n.strip()]
    results: dict[int, tuple[Memory, Memory]] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-memory-") as tmp:
        for slots in counts:
            idle, after, done = measure(slots, opportunities, Path(tmp), pg)
            results[slots] = (idle, after)
            click.echo(f"worker --slots {slots}: quote run of {opportunities} renewals: {done}")
            click.echo(_line("  idle (no browser)", idle))
            click.echo(_line("  after the run", after))
    click.echo("")
    click.echo("sizing (PSS: what the tree really costs; RSS overstates shared pages):")
    for slots, (idle, after) in results.items():
        per_slot = (after.pss - idle.pss) / slots
        per_slot_rss = (after.rss - idle.rss) / slots
        click.echo(
            f"  {slots} slot(s): per worker {after.pss:.0f} MiB PSS ({after.rss:.0f} RSS), "
            f"of which the idle worker {idle.pss:.0f}; per browser slot "
            f"{per_slot:.0f} MiB PSS ({per_slot_rss:.0f} RSS)"
        )
    if 1 in results and 2 in results:
        second = results[2][1].pss - results[1][1].pss
        click.echo(f"  the second slot of a worker adds {second:.0f} MiB PSS")


if __name__ == "__main__":
    main()
