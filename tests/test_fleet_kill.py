"""Stalled work: one fleet worker SIGKILLed at random moments, ten times over a quoting and
a booking run, restarted each time. The others take over its jobs after the heartbeat
timeout; the intents decide what the portal already has: one quote per renewal, one
booking per accepted quote, no intent open, no job left in progress."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bot_helpers import (
    assert_each_renewal_entered_once,
    engagement_for,
)
from fleet_helpers import fleet_database, fleet_setup, stop_workers, worker_process
from sandbox_helpers import running_portal
from sqlalchemy import create_engine, text

from schemas.work import RunStatus
from store import open_store

pytestmark = pytest.mark.postgres
KILLS = 10
WORKERS = 3


def every_worker_busy(db_url: str, run: subprocess.Popen[str], deadline_s: float) -> None:
    """Wait until each of the one-slot workers holds an item job, the victim included (on a
    loaded machine a new incarnation can spend seconds starting its browser, and a kill
    before it takes a job would test nothing)."""
    busy = text(
        "SELECT count(*) FROM procrastinate_jobs"
        " WHERE status = 'doing' AND task_name = 'quotebot:work_item'"
    )
    engine = create_engine(db_url)
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end and run.poll() is None:
            with engine.connect() as conn:
                if conn.execute(busy).scalar_one() >= WORKERS:
                    return
            time.sleep(0.2)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_killed_workers_items_are_finished_by_the_others_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20261202)
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=24) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=5)
        config, env = fleet_setup(tmp_path, db_url, [engagement], QUOTEBOT_RECONCILE_GRACE_S="1")
        args = ["--slots", "1", "--engagements", str(config)]
        survivors = [worker_process(f"qb-host{i}", args, env) for i in (1, 2)]
        victim = worker_process("qb-host0", args, env)
        run = subprocess.Popen(
            [
                *(sys.executable, "-m", "quotebot", "run", engagement.name, "--kind", "both"),
                *("--engagements", str(config), "--today", portal.config.today.isoformat()),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        kills = 0
        killed: list[str] = []  # what each killed incarnation printed before it died
        try:
            while kills < KILLS and run.poll() is None:
                every_worker_busy(db_url, run, deadline_s=120)
                time.sleep(rng.uniform(0.5, 3.0))
                os.killpg(victim.pid, signal.SIGKILL)  # the worker and its browsers, a crash
                out, err = victim.communicate()
                killed.append(out + err)
                kills += 1
                victim = worker_process("qb-host0", args, env)
            out, err = run.communicate(timeout=900)
        finally:
            outputs = stop_workers([victim, *survivors])
        assert kills >= 5, "the run ended before the worker could be killed often enough"
        assert run.returncode == 0, (out, err[-3000:])
        # Taken over by a survivor, or by the victim's next incarnation (a new worker).
        rescued = [o for o in [*outputs, *killed] if "of a dead worker goes back" in o]
        assert rescued, outputs

        store = open_store(db_url)
        runs = store.runs(engagement.name)
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
        jobs = [j for r in runs for j in store.run_jobs(r.id)]
        assert jobs and {j["status"] for j in jobs} <= {"succeeded", "failed"}
        assert_each_renewal_entered_once(portal, store, engagement.name)
        store.close()
