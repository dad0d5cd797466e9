"""The scheduler killed with SIGKILL and restarted: jobs and next run times persist, run
times missed while it was down are coalesced into one run, and one engagement never has
two runs at once."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from bot_helpers import due_ids, engagement_for, portal_env, write_engagements
from sandbox_helpers import TODAY, running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until

import scheduler
from schemas.engagement import Schedules
from schemas.settings import Settings
from schemas.work import Run, RunStatus
from store import open_store

EVERY_3_S = "*/3 * * * * *"


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("QUOTEBOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    return tmp_path / "home"


def test_jobs_survive_sigkill_missed_runs_coalesce_and_runs_never_overlap(
    tmp_path: Path, home: Path
) -> None:
    with running_portal(tmp_path / "portal", "acme", opportunities=6) as portal:
        engagement = engagement_for(portal, workers=1, schedules=Schedules(quote=EVERY_3_S))
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = {**os.environ, **portal_env(engagement), "QUOTEBOT_RECONCILE_GRACE_S": "1"}
        store = open_store(f"sqlite:///{home / 'quotebot.sqlite'}")
        with scheduler.job_editor(Settings()) as editor:  # the sandbox works as of its own date
            scheduler.schedule_engagement(
                editor,
                engagement,
                config,
                scheduler.process_store(Settings()),
                today=TODAY.isoformat(),
            )

        def runs_since(moment: datetime, *, finished: bool = True) -> list[Run]:
            return [
                r
                for r in store.runs(engagement.name)
                if r.started_at >= moment and (r.finished_at is not None or not finished)
            ]

        # 1. Running on schedule, then killed.
        first = SchedulerProcess(config, env, tmp_path / "scheduler.log")
        until("two runs finished", lambda: len(runs_since(first.started)) >= 2)
        first.kill()
        with scheduler.job_editor(Settings()) as editor:
            job = editor.get_job("quote:acme")
        assert job is not None and job.next_run_time is not None, "the job is in the database"
        assert "second='*/3'" in str(job.trigger)

        # 2. Restarted: the persisted job carries on by itself.
        second = SchedulerProcess(config, env, tmp_path / "scheduler.log")
        until("a run after the restart", lambda: len(runs_since(second.started)) >= 1)
        second.kill()

        # 3. Down while several run times pass (a trigger that ends, so no regular run follows).
        now = datetime.now(UTC)
        with scheduler.job_editor(Settings()) as editor:
            editor.modify_job(
                "quote:acme",
                trigger=CronTrigger(second="*/2", end_date=now),
                next_run_time=now - timedelta(seconds=9),
            )
        third = SchedulerProcess(config, env, tmp_path / "scheduler.log")
        until("the coalesced run", lambda: len(runs_since(third.started)) >= 1)
        with scheduler.job_editor(Settings()) as editor:
            until("the ended job is gone", lambda: editor.get_job("quote:acme") is None, 30)
        assert third.terminate() == 0
        log = (tmp_path / "scheduler.log").read_text()
        missed = re.findall(r"quote:acme: (\d+) run time\(s\) missed while stopped; they run", log)
        assert missed and int(missed[-1]) >= 4, log[-3000:]
        assert len(runs_since(third.started, finished=False)) == 1, "coalesced into one run"

        # No two runs of the engagement at once, across kills and restarts.
        runs = store.runs(engagement.name)
        assert RunStatus.RUNNING not in {r.status for r in runs}
        for earlier, later in zip(runs, runs[1:], strict=False):
            assert earlier.finished_at is not None
            assert earlier.finished_at <= later.started_at, f"runs {earlier.id} and {later.id}"
        assert Counter(r.status for r in runs)[RunStatus.SUCCEEDED] >= 3

        # And the portal holds one quote per renewal, whatever the kills interrupted.
        with portal.open_db() as db:
            for opportunity_id in due_ids(portal, engagement):
                quotes = db.find_quotes(opportunity_id=opportunity_id)
                assert [q.status for q in quotes] in ([], ["submitted"]), opportunity_id
        store.close()
