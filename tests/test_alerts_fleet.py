"""A fleet worker killed while it holds an item: two schedulers and two live fleet workers
all look at the store every few seconds, and operations get one e-mail and one webhook
call, then one "resolved" when a worker starts again on that machine. Real processes on
PostgreSQL, a real sandbox portal, real SMTP and HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from alert_helpers import alert_env, alert_settings, receiver, secrets_lines, smtp_server
from bot_helpers import engagement_for
from fleet_helpers import fleet_database, fleet_setup, stop_workers, worker_process
from sandbox_helpers import running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until
from sqlalchemy import create_engine, text

from alerts import Alerting
from sandbox.config import FaultConfig
from schemas.alerts import AlertRule
from store import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _no_leftovers() -> object:
    yield
    kill_leftovers()


def periodic_evaluations(db_url: str) -> int:
    """The fleet's periodic alert jobs that ran to the end."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
                        " AND task_name = 'quotebot:evaluate_alerts'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_killed_worker_holding_an_item_is_one_alert_across_the_fleet_and_two_schedulers(
    tmp_path: Path,
) -> None:
    faults = FaultConfig(latency_ms=(300, 600))  # items take seconds: the victim holds one
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=16, faults=faults) as portal,
        smtp_server(tmp_path) as (box, smtp_port, cert),
        receiver() as endpoint,
    ):
        secrets = tmp_path / "secrets.env"
        secrets.write_text(secrets_lines(), encoding="utf-8")
        engagement = engagement_for(portal, max_attempts=5)
        config, env = fleet_setup(
            tmp_path,
            db_url,
            [engagement],
            QUOTEBOT_SECRETS_FILE=str(secrets),
            QUOTEBOT_ALERTS__EVALUATE_EVERY_S="1",
            **alert_env(smtp_port, cert, endpoint),
        )
        schedulers = [SchedulerProcess(config, env, tmp_path / f"scheduler{i}.log") for i in (1, 2)]
        args = ["--slots", "1", "--engagements", str(config)]
        victim = worker_process("qb-alerts0", args, env)  # alone first: it takes an item
        survivors: list[subprocess.Popen[str]] = []
        run = subprocess.Popen(
            [
                *(sys.executable, "-m", "quotebot", "run", engagement.name, "--kind", "quote"),
                *("--engagements", str(config), "--today", portal.config.today.isoformat()),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        store = open_store(db_url)
        workers = []
        try:

            def victim_holds_an_item() -> bool:
                rows = [w for w in store.fleet_workers() if w.host == "qb-alerts0"]
                return bool(rows and rows[0].in_hand)

            until("the victim holds an item", victim_holds_an_item, timeout=300)
            survivors += [worker_process(f"qb-alerts{i}", args, env) for i in (1, 2)]

            def all_three_hold_items() -> bool:
                return sum(1 for w in store.fleet_workers() if w.in_hand) == 3

            until("both other workers hold items too", all_three_hold_items, timeout=300)
            os.killpg(victim.pid, signal.SIGKILL)  # the worker and its browser: a crash
            victim.communicate()
            until("the dead worker's webhook", lambda: len(endpoint.calls) >= 1, timeout=120)
            seen = periodic_evaluations(db_url)
            # Every process keeps looking: two more fleet ticks, a dozen scheduler ones.
            until("two more fleet evaluations", lambda: periodic_evaluations(db_url) >= seen + 2)
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0, err[-3000:]

            dead = [a for a in store.alerts() if a.rule is AlertRule.WORKER_DEAD]
            assert len(dead) == 1 and dead[0].subject.startswith("qb-alerts0:"), dead
            assert len(box.messages) == 1 and len(endpoint.calls) == 1
            assert "worker dead - acme (new)" in str(box.messages[0]["Subject"])
            assert json.loads(endpoint.calls[0].body)["data"]["rule"] == "worker_dead"

            workers.append(worker_process("qb-alerts0", args, env))  # the machine's worker back
            until("the resolved webhook", lambda: len(endpoint.calls) >= 2, timeout=120)
            seen = periodic_evaluations(db_url)
            until("two more fleet evaluations", lambda: periodic_evaluations(db_url) >= seen + 2)
            assert len(box.messages) == 2 and len(endpoint.calls) == 2
            assert "(resolved)" in str(box.messages[1]["Subject"])
            assert [json.loads(c.body)["type"] for c in endpoint.calls] == [
                "alert.firing",
                "alert.resolved",
            ]
            assert all(c.valid for c in endpoint.calls)
            assert len({c.headers["webhook-id"] for c in endpoint.calls}) == 2
            queued = store.deliveries()
            assert sorted(d.kind.value for d in queued) == sorted(["firing"] * 2 + ["resolved"] * 2)
        finally:
            if run.poll() is None:
                run.kill()
            stop_workers([*survivors, victim, *workers])
            for scheduler in schedulers:
                scheduler.terminate()
            store.close()
        for scheduler in schedulers:  # no secret in their logs
            log = scheduler.log.read_text(encoding="utf-8")
            assert "smtp-s3cret-pass" not in log and "whsec_" not in log


def test_a_run_waiting_with_no_live_worker_is_heard_once_and_clears_when_one_starts(
    tmp_path: Path,
) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=3) as portal,
        smtp_server(tmp_path) as (box, smtp_port, cert),
        receiver() as endpoint,
    ):
        engagement = engagement_for(portal)
        settings = alert_settings(tmp_path / "home", smtp_port, cert, endpoint)
        settings = settings.model_copy(update={"database_url": db_url})
        # Every process that looks (the late worker's periodic job too) has the same channels.
        alerting_env = {"QUOTEBOT_SECRETS_FILE": str(settings.secrets_file)}
        alerting_env |= alert_env(smtp_port, cert, endpoint)
        config, env = fleet_setup(tmp_path, db_url, [engagement], **alerting_env)
        run = subprocess.Popen(  # the fleet's run waits for a worker to take its jobs
            [
                *(sys.executable, "-m", "quotebot", "run", engagement.name, "--kind", "quote"),
                *("--engagements", str(config), "--today", portal.config.today.isoformat()),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        store = open_store(db_url)
        alerting = Alerting(store, settings)
        workers = []
        try:
            until("a job waits", lambda: store.jobs_waiting().get("acme", 0) > 0)
            alerting.evaluate()
            alerting.evaluate()
            assert [json.loads(c.body)["data"]["cause"] for c in endpoint.calls] == ["no worker"]
            assert len(box.messages) == 1
            workers.append(worker_process("qb-late", ["--engagements", str(config)], env))
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0, err[-3000:]
            alerting.evaluate()
            alerting.evaluate()
        finally:
            if run.poll() is None:
                run.kill()
            stop_workers(workers)
            store.close()
        assert [json.loads(c.body)["type"] for c in endpoint.calls] == [
            "alert.firing",
            "alert.resolved",
        ]
        assert len(box.messages) == 2
