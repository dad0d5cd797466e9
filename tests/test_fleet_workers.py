"""Operations watch the fleet: `quotebot workers` lists the live worker processes with the
items in their hands, the web run page shows who holds which item and refreshes itself
while the run runs, a killed worker shows dead, a stopped one leaves the list; each
worker's Prometheus metrics, scraped from its port, agree with the store."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from bot_helpers import engagement_for
from fleet_helpers import fleet_database, fleet_setup, stop_workers, worker_process
from playwright.sync_api import Page, expect
from prometheus_client.parser import text_string_to_metric_families
from sandbox_helpers import running_portal
from web_helpers import PASSWORD, SECRET, sign_in

from bots import start_fleet_run, tasks
from sandbox.config import FaultConfig
from schemas.settings import Settings
from schemas.work import FailureKind, ItemState, RunStatus
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

TIMINGS = {
    "QUOTEBOT_FLEET_TIMINGS__HEARTBEAT_S": "0.5",
    "QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S": "3",
}


def quotebot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "quotebot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.stdout, done.stderr[-3000:])
    return done.stdout


def wait_for(what: str, check: object, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.slow
def test_workers_and_the_items_in_their_hands_are_listed_and_shown(
    tmp_path: Path, page: Page
) -> None:
    with (
        fleet_database() as db_url,
        # Saves take 1.5 s: an item stays in a worker's hand long enough to be seen there.
        running_portal(
            tmp_path / "acme", "acme", opportunities=10, faults=FaultConfig(slow_save_ms=1500)
        ) as portal,
        open_store(db_url) as store,
    ):
        engagement = engagement_for(portal, recycle_after=50)
        config, env = fleet_setup(tmp_path, db_url, [engagement], **TIMINGS)
        ports = [_free_port(), _free_port()]
        args = ["--slots", "1", "--engagements", str(config), "--metrics-port"]
        workers = [
            worker_process(f"qb-w{i}", [*args, str(port)], env) for i, port in enumerate(ports)
        ]
        try:
            wait_for("two registered workers", lambda: len(store.fleet_workers()) == 2)
            listed = quotebot(env, "workers")
            assert "2 alive, 0 dead" in listed, listed
            rows = [line.split() for line in listed.splitlines()[1:-1]]
            assert sorted(int(r[1]) for r in rows) == sorted(w.pid for w in store.fleet_workers())
            assert all(r[2:5] == ["alive", "all", "1"] for r in rows), listed
            if os.geteuid() == 0:  # a UTS namespace each: the hosts are told apart by name
                assert sorted(r[0] for r in rows) == ["qb-w0", "qb-w1"], listed

            run = subprocess.Popen(
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
            wait_for("the fleet run", lambda: store.runs() != [])
            (fleet_run,) = store.runs()
            in_hand = _in_hand_lines(env, fleet_run.id)
            assert in_hand, "some `quotebot workers` listing showed an item in hand"
            _held_items_show_on_the_runs_pages(page, store, tmp_path, config, fleet_run.id)
            during = [_scrape(port) for port in ports]
            due = len(store.items(engagement.name))
            assert all(0 <= m[("quotebot_jobs_waiting", "acme")] <= due for m in during)
            assert all(m[("quotebot_portal_sessions_open", "acme")] <= 1 for m in during)
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, (out, err[-3000:])
            assert store.run(fleet_run.id).status is RunStatus.SUCCEEDED
            assert all(w.in_hand == () for w in store.fleet_workers()), "hands empty after"
            _metrics_agree_with_the_store(store, ports, engagement.name)

            killed, stopped = workers
            os.killpg(killed.pid, signal.SIGKILL)
            stop_workers([stopped])
            killed.communicate()
            time.sleep(3.5)  # past stalled_after_s: the killed worker's row is old
            listed = quotebot(env, "workers")
            assert "0 alive, 1 dead" in listed, listed
            (row,) = [line.split() for line in listed.splitlines()[1:-1]]
            assert row[2] == "dead", listed
        finally:
            stop_workers(workers)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scrape(port: int) -> Counter[tuple[str, ...]]:
    """A worker's /metrics, as (sample name, label values...) -> value."""
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200
    found: Counter[tuple[str, ...]] = Counter()
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, *sample.labels.values())] += sample.value
    return found


def _metrics_agree_with_the_store(store: Store, ports: list[int], engagement: str) -> None:
    """Added up over the workers, the items by outcome are the items' states in the store;
    every attempt was timed; nothing waits; the heartbeats are fresh; and once the slots
    have been idle past the sign-out time, no portal session is held open."""
    items = store.items(engagement)
    ok = sum(i.state in (ItemState.VERIFIED, ItemState.FLAGGED) for i in items)
    business = sum(i.failure_kind is FailureKind.BUSINESS for i in items)
    scraped = [_scrape(port) for port in ports]
    total = sum(scraped, Counter())
    assert total[("quotebot_items_total", engagement, "quote", "ok")] == ok > 0
    assert total[("quotebot_items_total", engagement, "quote", "business")] == business > 0
    attempts = sum(v for k, v in total.items() if k[0] == "quotebot_items_total")
    assert total[("quotebot_item_duration_seconds_count", engagement, "quote")] == attempts
    each = [sum(v for k, v in m.items() if k[0] == "quotebot_items_total") for m in scraped]
    assert all(n > 0 for n in each), ("each worker did part of the work", each)
    waiting = store.jobs_waiting().get(engagement, 0)
    assert all(m[("quotebot_jobs_waiting", engagement)] == waiting == 0 for m in scraped)
    assert all(0 <= m[("quotebot_heartbeat_age_seconds",)] < 3 for m in scraped)
    time.sleep(2.5)  # past idle_sign_out_s: the slots sign out
    assert all(_scrape(p)[("quotebot_portal_sessions_open", engagement)] == 0 for p in ports)


def _in_hand_lines(env: dict[str, str], run_id: int) -> list[str]:
    """`quotebot workers` a few times during the run: the lines naming an item in hand."""
    pattern = re.compile(rf"acme quote item \d+ \S+ \(run {run_id}, \d+ s\)")
    for _ in range(10):
        found = pattern.findall(quotebot(env, "workers"))
        if found:
            return found
    return []


def _held_items_show_on_the_runs_pages(
    page: Page, store: Store, tmp_path: Path, config: Path, run_id: int
) -> None:
    """Operations open the runs page, then the running run's: they name the workers
    holding its items, and reload by themselves (the rows change without a click)."""
    store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
    app = create_app(store, WebSettings(secret_key=SECRET), engagements=config, home=tmp_path)
    with WebServer(app) as base_url:
        sign_in(page, base_url, "olga", "/runs")
        expect(page.get_by_test_id(f"held-{run_id}")).to_contain_text(" by ", timeout=30_000)
        page.goto(f"{base_url}/runs/{run_id}")
        expect(page.get_by_test_id("refreshing")).to_contain_text("refreshes every 5 s")
        held = page.get_by_test_id("held").locator("tr[data-item]")
        expect(held.first).to_be_visible(timeout=30_000)
        names = {w.name for w in store.fleet_workers()}
        worker = held.first.locator("td").first.inner_text()
        assert worker in names, (worker, names)
        seen = "".join(
            f':not([data-item="{held.nth(i).get_attribute("data-item")}"])'
            for i in range(held.count())
        )
        later = page.locator(f"[data-testid=held] tr[data-item]{seen}")
        expect(later.first).to_be_visible(timeout=60_000)


def test_workers_on_the_embedded_store_says_there_is_no_fleet(tmp_path: Path) -> None:
    env = {**os.environ, "QUOTEBOT_HOME": str(tmp_path / "home")}
    env.pop("QUOTEBOT_DATABASE_URL", None)
    listed = quotebot(env, "workers")
    assert listed.startswith("no fleet: the store is the embedded SQLite file"), listed


@pytest.mark.postgres
def test_the_schedulers_metrics_show_the_jobs_waiting_and_its_heartbeat(tmp_path: Path) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=4) as portal,
        open_store(db_url) as store,
    ):
        engagement = engagement_for(portal)
        config, env = fleet_setup(tmp_path, db_url, [engagement])
        settings = Settings(database_url=db_url, home=tmp_path / "home", fleet=True)
        app = store.task_queue(tasks)
        with app.open():  # no worker runs: the run's discovery job waits
            start_fleet_run(store, app, engagement, "quote", portal.config.today, settings)
        assert store.jobs_waiting() == {"acme": 1}
        port = _free_port()
        command = [sys.executable, "-m", "quotebot", "scheduler", "start"]
        command += ["--engagements", str(config), "--metrics-port", str(port)]
        started = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        try:
            wait_for("the scheduler's heartbeat", lambda: _scraped_beat(port) is not None)
            scraped = _scrape(port)
            assert scraped[("quotebot_jobs_waiting", "acme")] == 1
            assert 0 <= scraped[("quotebot_heartbeat_age_seconds",)] < 10
            assert not [k for k in scraped if k[0] == "quotebot_items_total"]

            again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
            assert again.returncode == 1
            assert f"metrics port 127.0.0.1:{port} cannot be opened" in again.stderr
        finally:
            started.send_signal(signal.SIGTERM)
            started.communicate(timeout=60)


def _scraped_beat(port: int) -> float | None:
    try:
        found = _scrape(port)
    except httpx.TransportError:
        return None
    return found.get(("quotebot_heartbeat_age_seconds",))
