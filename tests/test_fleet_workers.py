"""Operations watch the fleet: `quotebot workers` lists the live worker processes with the
items in their hands, the web run page shows who holds which item and refreshes itself
while the run runs, a killed worker shows dead, a stopped one leaves the list."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bot_helpers import engagement_for
from fleet_helpers import fleet_database, fleet_setup, stop_workers, worker_process
from playwright.sync_api import Page, expect
from sandbox_helpers import running_portal
from web_helpers import PASSWORD, SECRET, sign_in

from sandbox.config import FaultConfig
from schemas.work import RunStatus
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
            tmp_path / "acme", "acme", opportunities=8, faults=FaultConfig(slow_save_ms=1500)
        ) as portal,
        open_store(db_url) as store,
    ):
        engagement = engagement_for(portal, recycle_after=50)
        config, env = fleet_setup(tmp_path, db_url, [engagement], **TIMINGS)
        args = ["--slots", "1", "--engagements", str(config)]
        workers = [worker_process(f"qb-w{i}", args, env) for i in range(2)]
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
            _held_items_show_on_the_run_page(page, store, tmp_path, config, fleet_run.id)
            in_hand = _in_hand_lines(env, fleet_run.id)
            assert in_hand, "some `quotebot workers` listing showed an item in hand"
            out, err = run.communicate(timeout=300)
            assert run.returncode == 0, (out, err[-3000:])
            assert store.run(fleet_run.id).status is RunStatus.SUCCEEDED
            assert all(w.in_hand == () for w in store.fleet_workers()), "hands empty after"

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


def _in_hand_lines(env: dict[str, str], run_id: int) -> list[str]:
    """`quotebot workers` a few times during the run: the lines naming an item in hand."""
    pattern = re.compile(rf"acme quote item \d+ \S+ \(run {run_id}, \d+ s\)")
    for _ in range(10):
        found = pattern.findall(quotebot(env, "workers"))
        if found:
            return found
    return []


def _held_items_show_on_the_run_page(
    page: Page, store: Store, tmp_path: Path, config: Path, run_id: int
) -> None:
    """Operations open the running run's page: it names the workers holding its items and
    reloads by itself (the rows change without the person doing anything)."""
    store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
    app = create_app(store, WebSettings(secret_key=SECRET), engagements=config, home=tmp_path)
    with WebServer(app) as base_url:
        sign_in(page, base_url, "olga", f"/runs/{run_id}")
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
        # Items change hands as the run goes on: the page shows it without a click.
        later = page.locator(f"[data-testid=held] tr[data-item]{seen}")
        expect(later.first).to_be_visible(timeout=60_000)
        page.goto(f"{base_url}/runs")
        expect(page.get_by_test_id(f"held-{run_id}")).to_contain_text(" by ", timeout=30_000)


def test_workers_on_the_embedded_store_says_there_is_no_fleet(tmp_path: Path) -> None:
    env = {**os.environ, "QUOTEBOT_HOME": str(tmp_path / "home")}
    env.pop("QUOTEBOT_DATABASE_URL", None)
    listed = quotebot(env, "workers")
    assert listed.startswith("no fleet: the store is the embedded SQLite file"), listed
