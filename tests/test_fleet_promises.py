"""What the fleet promises operations, held under the faults a real site has: a failed
attempt keeps its evidence; a portal that goes down is not selector drift; a busy page after
a committed submit is looked into, not taken for a failed submit; a SIGTERM finishes the item
in hand; the portal's session licence is never exceeded and never read as a refused log-in."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bot_helpers import engagement_for
from fleet_helpers import (
    fleet_database,
    fleet_setup,
    one_quote_each,
    quote_on_the_fleet,
    run_process,
    stop_workers,
    worker_process,
)
from playwright.sync_api import Page, expect
from sandbox_helpers import running_portal
from sqlalchemy import create_engine, text
from web_helpers import PASSWORD, SECRET, sign_in

from sandbox.config import FaultConfig
from schemas.work import FailureKind, ItemState, RunStatus
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

pytestmark = pytest.mark.postgres

TIMINGS = {
    "QUOTEBOT_FLEET_TIMINGS__HEARTBEAT_S": "0.5",
    "QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S": "3",
}


def test_a_failed_fleet_attempt_keeps_its_screenshot_and_page_on_the_item_page(
    tmp_path: Path, page: Page
) -> None:
    """Bad data fails an item on its first attempt: never tried again, so never traced (only
    an item's retried attempts are); its screenshot and page HTML are kept."""
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=10) as portal,
    ):
        engagement = engagement_for(portal)
        runs, _ = quote_on_the_fleet(tmp_path, db_url, [portal], [engagement], workers=1, slots=1)
        assert [code for code, _ in runs] == [0], runs
        with open_store(db_url) as store:
            failed = store.items(engagement.name, state=ItemState.FAILED)
            assert failed and all(i.failure_kind is FailureKind.BUSINESS for i in failed)
            home = tmp_path / "home"
            for item in failed:
                kept = {e.kind: home / e.path for e in store.evidence(item.id)}
                assert set(kept) == {"screenshot", "html"}, (item.opportunity_id, kept)
                assert all(path.stat().st_size > 0 for path in kept.values())
            store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
            app = create_app(store, WebSettings(secret_key=SECRET), home=home)
            with WebServer(app) as base_url:
                sign_in(page, base_url, "olga", f"/review/{failed[0].id}")
                expect(page.get_by_test_id("screenshot").first).to_be_visible()
                with page.expect_download() as download:
                    page.get_by_role("link", name="Download the page's HTML").first.click()
                assert download.value.suggested_filename.endswith("-page.html")
            (run,) = store.runs(engagement.name)
            assert run.status is RunStatus.SUCCEEDED


def test_a_busy_page_after_a_committed_submit_is_looked_into_not_failed(tmp_path: Path) -> None:
    """The read after each save, submit or booking answers 503: with one attempt per item,
    every submitted quote is found in the portal and verified, none failed blind."""
    with (
        fleet_database() as db_url,
        running_portal(
            tmp_path / "acme", "acme", opportunities=8, faults=FaultConfig(busy_after_write=1)
        ) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=1)
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [portal], [engagement], workers=1, slots=1, timeout_s=180
        )
        assert [code for code, _ in runs] == [0], (runs, outputs[0][-5000:])
        items = one_quote_each(db_url, portal, engagement)  # no system failure among them
        assert any(i.state in (ItemState.VERIFIED, ItemState.FLAGGED) for i in items.values())
        log = portal.server.app.state.fault_stats.log
        after_submit = [p for _, m, p, busy in log if busy and p.startswith("/api/quotes/Q-")]
        assert len(after_submit) >= 4, ("the quote page after each submit answered 503", log)


def test_a_portal_dying_mid_page_is_retried_not_taken_for_drift(tmp_path: Path) -> None:
    """While an item is in hand, the portal's API stops answering for longer than a page's
    time-out, then drops its connections: the items are retried, the run is not stopped for
    selector drift, and every due renewal is quoted once."""
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=8) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=6)
        outage = portal.server.app.state.outage
        flip = _when_an_item_is_in_hand(db_url, lambda: outage.begin(17, "/api/", hang=True))
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [portal], [engagement], workers=1, slots=1, timeout_s=240
        )
        flip.join()
        assert outage.dropped > 0, "the outage happened during the run"
        assert [code for code, _ in runs] == [0], (runs, outputs[0][-5000:])
        assert "selector drift" not in outputs[0], outputs[0][-3000:]
        one_quote_each(db_url, portal, engagement)


def _when_an_item_is_in_hand(db_url: str, action: Callable[[], None]) -> threading.Thread:
    """`action()` once a worker holds an item job (a thread, started)."""
    doing = text(
        "SELECT count(*) FROM procrastinate_jobs"
        " WHERE status = 'doing' AND task_name = 'quotebot:work_item'"
    )

    def watch() -> None:
        engine = create_engine(db_url)
        try:
            end = time.monotonic() + 180
            while time.monotonic() < end:
                try:
                    with engine.connect() as conn:
                        if conn.execute(doing).scalar_one():
                            action()
                            return
                except Exception:  # noqa: BLE001 - the queue's tables not made yet
                    pass
                time.sleep(0.1)
        finally:
            engine.dispose()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_sigterm_during_a_slow_save_finishes_the_item_in_that_worker(tmp_path: Path) -> None:
    """Saves and submits take 6 s, a worker is silent for dead after 3 s: the worker told to
    stop during a save finishes that item itself; the other never takes it over."""
    with (
        fleet_database() as db_url,
        running_portal(
            tmp_path / "acme", "acme", opportunities=8, faults=FaultConfig(slow_save_ms=6000)
        ) as portal,
        open_store(db_url) as store,
    ):
        engagement = engagement_for(portal)
        config, env = fleet_setup(tmp_path, db_url, [engagement], **TIMINGS)
        args = ["--slots", "1", "--engagements", str(config)]
        workers = [worker_process(f"qb-host{i}", args, env) for i in range(2)]
        run = run_process(engagement, config, portal, env)
        try:
            holder, item_id = _saving(store, workers)
            holder.send_signal(signal.SIGTERM)
            stopped, _ = holder.communicate(timeout=120)
            out, err = run.communicate(timeout=300)
        finally:
            outputs = stop_workers(workers)
        assert run.returncode == 0, (out, err[-3000:])
        assert not [o for o in outputs if "of a dead worker goes back" in o], outputs
        intents = store.intents(item_id)
        assert [i.status for i in intents] == ["completed"], intents
        item = store.item(item_id)
        assert item.state in (ItemState.VERIFIED, ItemState.FLAGGED), item
        with portal.open_db() as db:
            quotes = db.find_quotes(opportunity_id=item.opportunity_id)
        assert [q.external_ref for q in quotes] == [item.reference], quotes
        one_quote_each(db_url, portal, engagement)


def _saving(
    store: Store, workers: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], int]:
    """The worker process that has a quote's save under way (its intent open), and the item."""
    end = time.monotonic() + 120
    while time.monotonic() < end:
        for worker in store.fleet_workers():
            for hand in worker.in_hand:
                if any(i.status == "open" for i in store.intents(hand.item_id)):
                    (process,) = [w for w in workers if w.pid == worker.pid]
                    return process, hand.item_id
        time.sleep(0.1)
    raise AssertionError(("no save under way within 120 s", store.fleet_workers(), store.items()))


def test_a_licence_of_two_sessions_holds_through_busy_log_ins_and_killed_workers(
    tmp_path: Path,
) -> None:
    """The portal allows two sessions and ends idle ones after 6 s; half its log-ins have
    their next page answer 503 (the session open all the same); workers are killed mid-item.
    No log-in is reported refused, the run is not stopped, every renewal is quoted once and
    the portal never counts more than two sessions."""
    faults = FaultConfig(busy_after_login=0.5, seed=3)
    with (
        fleet_database() as db_url,
        running_portal(
            tmp_path / "acme",
            "acme",
            opportunities=12,
            max_sessions=2,
            session_ttl=6,
            faults=faults,
        ) as portal,
        open_store(db_url) as store,
    ):
        engagement = engagement_for(portal, max_sessions=2, recycle_after=2, max_attempts=8)
        config, env = fleet_setup(
            tmp_path,
            db_url,
            [engagement],
            QUOTEBOT_PORTAL_SESSION_EXPIRY_S="7",
            QUOTEBOT_RECONCILE_GRACE_S="1",
            **TIMINGS,
        )
        args = ["--slots", "1", "--engagements", str(config)]
        workers = [worker_process(f"qb-host{i}", args, env) for i in range(3)]
        run = run_process(engagement, config, portal, env)
        killed = []
        try:
            for _ in range(2):
                victim = _holding_an_item(store, workers)
                os.killpg(victim.pid, signal.SIGKILL)  # the worker and its browsers
                out, err = victim.communicate()
                killed.append(out + err)
                workers[workers.index(victim)] = worker_process("qb-again", args, env)
            out, err = run.communicate(timeout=480)
        finally:
            outputs = stop_workers(workers)
        assert run.returncode == 0, (out, err[-3000:])
        said = "\n".join([out, err, *outputs, *killed])
        assert "login refused" not in said, said[-5000:]
        one_quote_each(db_url, portal, engagement)
        assert portal.server.app.state.sessions.max_open() <= 2
        log = portal.server.app.state.fault_stats.log
        assert any(busy for *_, busy in log), "some log-in met a busy page"


def _holding_an_item(store: Store, workers: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """A worker process that holds an item right now."""
    end = time.monotonic() + 120
    while time.monotonic() < end:
        for worker in store.fleet_workers():
            if worker.in_hand:
                found = [w for w in workers if w.pid == worker.pid and w.poll() is None]
                if found:
                    return found[0]
        time.sleep(0.1)
    raise AssertionError(("no item in hand within 120 s", store.fleet_workers()))
