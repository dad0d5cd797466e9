"""Helpers for fleet tests: a PostgreSQL database of the test's own, worker processes each
started as a host of its own (a UTS namespace with its own hostname, a process group)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot_helpers import due_ids, portal_env, write_engagements
from conftest import PG_URL, require_service
from sandbox_helpers import RunningPortal
from sqlalchemy import make_url

from schemas.engagement import Engagement
from schemas.work import ItemState, RunStatus
from store import open_store, scratch_database


@contextmanager
def fleet_database() -> Iterator[str]:
    """A fresh database `quotebot_i13_*` on the test server, dropped afterwards."""
    url = make_url(PG_URL)
    require_service("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)
    with scratch_database(PG_URL, "quotebot_i13") as db_url:
        yield db_url


def worker_process(host: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """`quotebot worker ARGS` as host `host`: its own hostname where the machine allows a
    UTS namespace (root), and always its own process group."""
    command = [sys.executable, "-m", "quotebot", "worker", *args]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "-", *command]
    return subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_workers(workers: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM each worker (it finishes the item in hand) and return what each printed."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    outputs = []
    for worker in workers:
        try:
            out, err = worker.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            out, err = worker.communicate()
        outputs.append(out + err[-20000:])
    return outputs


def fleet_setup(
    tmp_path: Path, db_url: str, engagements: list[Engagement], **env: str
) -> tuple[Path, dict[str, str]]:
    """The engagements file and the environment of a fleet on `db_url` (plus `env`), the
    database migrated once, before workers race to it."""
    config = write_engagements(tmp_path / "engagements.yaml", engagements)
    full = {
        **os.environ,
        "QUOTEBOT_HOME": str(tmp_path / "home"),
        "QUOTEBOT_DATABASE_URL": db_url,
        "QUOTEBOT_FLEET": "true",
        **env,
    }
    for engagement in engagements:
        full.update(portal_env(engagement))
    open_store(db_url).close()
    return config, full


def quote_on_the_fleet(
    tmp_path: Path,
    db_url: str,
    portals: list[RunningPortal],
    engagements: list[Engagement],
    *,
    workers: int,
    slots: int,
    timeout_s: float = 600,
    **env: str,
) -> tuple[list[tuple[int, str]], list[str]]:
    """`quotebot run` of each engagement at once on the fleet, with `workers` worker
    processes (`env` added to theirs): each run's exit status and output, and what each
    worker printed."""
    config, full = fleet_setup(tmp_path, db_url, engagements, **env)
    args = ["--slots", str(slots), "--engagements", str(config)]
    started = [worker_process(f"qb-host{i}", args, full) for i in range(workers)]
    try:
        runs = [
            run_process(engagement, config, portal, full)
            for portal, engagement in zip(portals, engagements, strict=True)
        ]
        ended = []
        for run in runs:
            try:
                out, err = run.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                run.kill()
                out, err = run.communicate()
                err += f"\n(the run did not end in {timeout_s:.0f} s)"
            ended.append((run.returncode, out + err[-3000:]))
    finally:
        outputs = stop_workers(started)
    return ended, outputs


def one_quote_each(db_url: str, portal: RunningPortal, engagement: Engagement) -> dict:
    """Every due renewal has exactly one quote in the portal's database (or went to review
    for bad data, with none); the run ended with every item job ended."""
    with open_store(db_url) as store:
        (fleet_run,) = store.runs(engagement.name)
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        jobs = store.run_jobs(fleet_run.id)
    assert fleet_run.status is RunStatus.SUCCEEDED
    assert set(items) == due_ids(portal, engagement)
    assert len(jobs) == len(items) and {j["status"] for j in jobs} <= {"succeeded", "failed"}
    with portal.open_db() as db:
        for opportunity_id, item in items.items():
            quotes = db.find_quotes(opportunity_id=opportunity_id)
            if item.state is ItemState.FAILED:
                assert item.failure_kind == "business", item.failure_reason
                assert quotes == []
            else:
                assert len(quotes) == 1, (engagement.name, opportunity_id, item, quotes, jobs)
    return items


def run_process(
    engagement: Engagement, config: Path, portal: RunningPortal, env: dict[str, str]
) -> subprocess.Popen[str]:
    """`quotebot run ENGAGEMENT --kind quote` on the fleet, started."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "quotebot", "run", engagement.name),
            *("--kind", "quote", "--engagements", str(config)),
            *("--today", portal.config.today.isoformat()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
