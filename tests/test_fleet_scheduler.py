"""Scheduling that survives a dead scheduler: two scheduler processes share one job store
and both fire every schedule; on the fleet each fire time still makes exactly one run."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot_helpers import engagement_for, portal_env, write_engagements
from fleet_helpers import fleet_database, stop_workers, worker_process
from sandbox_helpers import TODAY, running_portal
from scheduler_helpers import SchedulerProcess, kill_leftovers, until

import scheduler
from schemas.engagement import Schedules
from schemas.settings import Settings
from schemas.work import RunStatus
from store import open_store

pytestmark = pytest.mark.postgres
EVERY_3_S = "*/3 * * * * *"
FIRE_TIMES = 10  # fire times both schedulers must have handled before they are stopped
HANDED = re.compile(r"run of (\S+) handed")
ALREADY = re.compile(r"run of (\S+) already")


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    kill_leftovers()


def test_two_schedulers_make_one_run_per_fire_time(tmp_path: Path) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=4) as portal,
    ):
        # Booking runs with nothing verified yet: each is a whole run (record, discovery,
        # finishing job) and cheap enough to fire every three seconds.
        engagement = engagement_for(portal, schedules=Schedules(booking=EVERY_3_S))
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        settings = Settings(database_url=db_url, home=tmp_path / "home")
        with scheduler.job_editor(settings) as editor:
            store = scheduler.process_store(settings)
            scheduler.schedule_engagement(
                editor, engagement, config, store, today=TODAY.isoformat()
            )
        env = {
            **os.environ,
            **portal_env(engagement),
            "QUOTEBOT_HOME": str(tmp_path / "home"),
            "QUOTEBOT_DATABASE_URL": db_url,
            "QUOTEBOT_FLEET": "true",
        }
        worker = worker_process("qb-host0", ["--engagements", str(config)], env)
        schedulers = [
            SchedulerProcess(config, env, tmp_path / f"scheduler{i}.log") for i in range(2)
        ]
        logs = [s.log for s in schedulers]
        try:
            # Wait on what is counted, not on a clock: under a loaded machine the schedulers
            # take a varying time to start, and a fixed sleep saw a varying number of fires.
            until(
                f"{FIRE_TIMES} fire times handed, one of them found taken",
                lambda: (
                    len(_fire_times(logs, HANDED)) >= FIRE_TIMES
                    and bool(_fire_times(logs, ALREADY))
                ),
                timeout=240.0,
            )
            assert [s.terminate() for s in schedulers] == [0, 0]
            with open_store(db_url) as reader:
                until(
                    "every run ended",
                    lambda: all(r.status is not RunStatus.RUNNING for r in reader.runs()),
                )
                runs = reader.runs(engagement.name)
        finally:
            (worker_output,) = stop_workers([worker])

        handed = _fire_times(logs, HANDED)
        already = _fire_times(logs, ALREADY)
        assert all(n == 1 for n in handed.values()), handed
        assert set(already) <= set(handed), (already, handed)
        assert already, "both schedulers fired (the second found the fire time taken)"
        assert len(handed) >= FIRE_TIMES
        # A fire time whose predecessor's run is still going starts none (max_instances=1).
        refused = re.findall(r"scheduled booking run of (\d+) not started", worker_output)
        assert len(runs) + len(refused) == len(handed), (len(runs), refused, handed)
        assert len(runs) >= len(handed) / 2
        assert {r.status for r in runs} == {RunStatus.SUCCEEDED}


def _fire_times(logs: list[Path], pattern: re.Pattern[str]) -> Counter[str]:
    """How often each fire time appears, over both schedulers' logs, as `pattern` words it."""
    return Counter(t for log in logs for t in pattern.findall(log.read_text()))
