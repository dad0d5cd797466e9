"""Runs one after another on the fleet: a stopped run's item jobs, still queued (waiting
for a retry) as the next run starts, never keep that run from working its items."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bot_helpers import due_ids, engagement_for
from fleet_helpers import (
    fleet_database,
    fleet_setup,
    quote_on_the_fleet,
    run_process,
    stop_workers,
    worker_process,
)
from sandbox_helpers import running_portal

from schemas.work import ItemState, RunStatus
from store import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

FAST = {
    "QUOTEBOT_RETRY__ATTEMPTS": "1",
    "QUOTEBOT_BACKOFF__FIRST_WAIT_S": "600",  # the first run's item jobs wait, queued
    "QUOTEBOT_FLEET_TIMINGS__POLL_S": "0.2",
}


def test_the_next_run_works_the_items_whose_jobs_a_stopped_run_left_queued(
    tmp_path: Path,
) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=4) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=3)
        due = due_ids(portal, engagement)
        config, env = fleet_setup(tmp_path, db_url, [engagement], **FAST)
        # Run 1: every renewal's page is unreachable; each item job fails once and waits
        # 600 s for its next attempt. Then operations stop the run.
        portal.server.app.state.outage.begin(3600, "/api/opportunities/")
        worker = worker_process("qb-host0", ["--slots", "1", "--engagements", str(config)], env)
        run = run_process(engagement, config, portal, env)
        try:
            first = _wait_for_waiting_jobs(db_url, engagement.name, len(due))
        finally:
            run.kill()
            run.communicate()
            stop_workers([worker])
        portal.server.app.state.outage.begin(0)
        with open_store(db_url) as store:
            store.finish_run(first, RunStatus.FAILED, {}, error="stopped by operations")

        # Run 2: the portal answers again; every due renewal is quoted, once, by this run.
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [portal], [engagement], workers=1, slots=1, timeout_s=240, **FAST
        )
        assert [code for code, _ in runs] == [0], (runs, outputs)
        with open_store(db_url) as store:
            second = next(r for r in store.runs(engagement.name) if r.id != first)
            items = {i.opportunity_id: i for i in store.items(engagement.name)}
            old_jobs = store.run_jobs(first)
            new_jobs = store.run_jobs(second.id)
        assert second.status is RunStatus.SUCCEEDED, second
        assert set(items) == due
        assert {j["item_id"] for j in new_jobs} == {i.id for i in items.values()}, new_jobs
        assert {j["status"] for j in old_jobs} == {"cancelled"}, old_jobs
        with portal.open_db() as db:
            for opportunity_id, item in items.items():
                quotes = db.find_quotes(opportunity_id=opportunity_id)
                if item.state is ItemState.FAILED:  # a planted bad renewal: to review
                    assert item.failure_kind == "business" and quotes == [], item
                else:
                    assert item.state in (ItemState.VERIFIED, ItemState.FLAGGED), item
                    assert len(quotes) == 1, item


def _wait_for_waiting_jobs(db_url: str, engagement: str, count: int) -> int:
    """The first run's id, once `count` of its item jobs have failed once and wait."""
    deadline = time.monotonic() + 180
    with open_store(db_url) as store:
        while not any(e.name == engagement for e in store.engagements()):
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.5)  # the run has not registered its engagement yet
        while time.monotonic() < deadline:
            runs = store.runs(engagement)
            if runs:
                jobs = store.run_jobs(runs[0].id)
                waiting = [j for j in jobs if j["status"] == "todo" and j["attempts"] >= 1]
                if len(waiting) == count:
                    return runs[0].id
            time.sleep(0.5)
    raise AssertionError(f"the first run's {count} item jobs never all waited for a retry")
