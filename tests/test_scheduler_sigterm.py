"""SIGTERM to the scheduler during a run: the run stops after the items in hand, and the
portal holds no half-entered quote."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot_helpers import due_ids, engagement_for, portal_env, write_engagements
from sandbox_helpers import TODAY, running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until

import scheduler
from sandbox.config import FaultConfig
from schemas.engagement import Schedules
from schemas.settings import Settings
from schemas.work import ItemState, RunStatus
from store import open_store


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUOTEBOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    return tmp_path / "home"


def test_sigterm_stops_after_the_items_in_hand_and_leaves_no_draft(
    tmp_path: Path, home: Path
) -> None:
    slow_submits = FaultConfig(slow_save_ms=400)  # widens the window a signal can hit
    with running_portal(
        tmp_path / "portal", "acme", opportunities=40, faults=slow_submits
    ) as portal:
        engagement = engagement_for(portal, workers=2, schedules=Schedules(quote="0 6 * * 1-5"))
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = {**os.environ, **portal_env(engagement), "QUOTEBOT_RECONCILE_GRACE_S": "1"}
        store = open_store(f"sqlite:///{home / 'quotebot.sqlite'}")
        with scheduler.job_editor(Settings()) as editor:
            scheduler.schedule_engagement(
                editor,
                engagement,
                config,
                scheduler.process_store(Settings()),
                today=TODAY.isoformat(),
            )
        service = SchedulerProcess(config, env, tmp_path / "scheduler.log")

        # Operations ask the running scheduler for the quoting run now.
        asked = subprocess.run(
            [sys.executable, "-m", "quotebot", "schedule", "run-now", engagement.name],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "acme quote: run asked for now" in asked.stdout
        until("three quotes entered", lambda: _entered(store, engagement.name) >= 3, 240)
        assert service.terminate() == 0

        log = (tmp_path / "scheduler.log").read_text()
        assert "SIGTERM: stopping after the items in hand" in log
        assert log.rstrip().endswith("scheduler stopped")
        [run] = store.runs(engagement.name)
        assert run.status is RunStatus.SUCCEEDED and run.finished_at is not None
        items = store.items(engagement.name)
        assert any(i.state is ItemState.NEW for i in items), "stopped early, not at the end"
        assert not [i for i in items if i.claimed_by], "no item left held"
        assert not store.open_intents(engagement.name), "every submit's outcome is known"
        quoted = {i.opportunity_id: i for i in items if i.quote_number}
        with portal.open_db() as db:
            for opportunity_id in due_ids(portal, engagement):
                quotes = db.find_quotes(opportunity_id=opportunity_id)
                assert "draft" not in {q.status for q in quotes}, opportunity_id
                if opportunity_id in quoted:
                    assert [q.quote_number for q in quotes] == [quoted[opportunity_id].quote_number]
                else:
                    assert quotes == [], f"{opportunity_id} quoted but not recorded"
        store.close()


def _entered(store, engagement: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for i in store.items(engagement) if i.quote_number)
