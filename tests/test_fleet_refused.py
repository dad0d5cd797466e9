"""On the fleet too, a portal that refuses the bot user stops the run and touches no item:
the worker that meets the refusal ends the run with the reason, and the other item jobs
see the run ended and let their items be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bot_helpers import engagement_for, item_snapshot
from fleet_helpers import fleet_database, fleet_setup, stop_workers, worker_process
from sandbox_helpers import change_password, running_portal

from schemas.work import ItemState, RunStatus
from store import open_store

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_a_refused_login_stops_a_fleet_run_and_touches_no_item(tmp_path: Path) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=6) as portal,
    ):
        engagement = engagement_for(portal, workers=1)
        config, env = fleet_setup(tmp_path, db_url, [engagement])
        today = portal.config.today.isoformat()

        def run(kind: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    *(sys.executable, "-m", "quotebot", "run", engagement.name),
                    *("--kind", kind, "--engagements", str(config), "--today", today),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )

        workers = [worker_process("qb-host0", ["--slots", "2", "--engagements", str(config)], env)]
        try:
            quoted = run("quote")
            assert quoted.returncode == 0, quoted.stderr[-3000:]
            with open_store(db_url) as store:
                before = item_snapshot(store, engagement.name)
            assert ItemState.VERIFIED in before[0].values(), "the booking run has work to do"

            change_password(portal)
            for kind in ("booking", "quote"):
                result = run(kind)
                assert result.returncode == 1, (result.stdout, result.stderr[-3000:])
                assert "login refused" in result.stderr, result.stderr[-3000:]
                with open_store(db_url) as store:
                    assert item_snapshot(store, engagement.name) == before, "no item touched"
                    last = store.runs(engagement.name)[-1]
                assert (last.kind.value, last.status) == (kind, RunStatus.FAILED)
                assert last.error is not None and "login refused" in last.error
        finally:
            stop_workers(workers)
