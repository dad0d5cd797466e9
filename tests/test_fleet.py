"""The fleet: worker processes, each a host of its own, share an engagement's renewals
through procrastinate on PostgreSQL; the portal ends with one quote per renewal, and a
portal's session cap holds across the whole fleet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from bot_helpers import engagement_for
from fleet_helpers import fleet_database, one_quote_each, quote_on_the_fleet
from sandbox_helpers import running_portal

from store import open_store

pytestmark = pytest.mark.postgres


@pytest.mark.slow
def test_three_worker_hosts_share_two_engagements_and_quote_each_renewal_once(
    tmp_path: Path,
) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=20) as acme,
        running_portal(tmp_path / "globex", "globex", opportunities=20) as globex,
    ):
        engagements = [
            engagement_for(acme, recycle_after=10),
            engagement_for(globex, recycle_after=10),
        ]
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [acme, globex], engagements, workers=3, slots=1
        )
        assert [code for code, _ in runs] == [0, 0], runs
        items = {
            e.name: one_quote_each(db_url, portal, e)
            for portal, e in zip([acme, globex], engagements, strict=True)
        }
        with open_store(db_url) as store:
            run_ids = [r.id for r in store.runs()]
        for run_id in run_ids:
            shown = subprocess.run(
                [sys.executable, "-m", "quotebot", "runs", "show", str(run_id)],
                env={**os.environ, "QUOTEBOT_DATABASE_URL": db_url},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert re.search(r"fleet jobs: succeeded \d+$", shown, re.M), shown
        hosts = [re.search(r"worker (\S+?):", out) for out in outputs]
        if os.geteuid() == 0:  # a UTS namespace each: the hosts are told apart by name
            assert [h.group(1) if h else None for h in hosts] == [f"qb-host{i}" for i in range(3)]
        done = [_items_done(out) for out in outputs]
        assert all(n > 0 for n in done), (done, outputs)
        assert sum(done) == sum(len(i) for i in items.values())


def test_max_sessions_holds_across_three_workers_of_two_slots(tmp_path: Path) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=10, max_sessions=2) as portal,
    ):
        engagement = engagement_for(portal, max_sessions=2, recycle_after=3)
        runs, _ = quote_on_the_fleet(tmp_path, db_url, [portal], [engagement], workers=3, slots=2)
        assert [code for code, _ in runs] == [0], runs
        one_quote_each(db_url, portal, engagement)
        log = portal.server.app.state.sessions.log
        events = Counter(event for _, event, _ in log)
        assert events["refused"] == 0, log
        assert events["open"] > 2, "recycled contexts took turns at the two seats"
        assert portal.server.app.state.sessions.max_open() <= 2


def _items_done(output: str) -> int:
    line = re.search(r"stopped: (.*)", output)
    if line is None:
        return 0
    return sum(int(n) for _, n in re.findall(r"(\w+) (\d+)", line.group(1)))
