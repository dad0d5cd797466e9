"""The one retry decision on the fleet: a renewal list the portal fails a few times is
listed again after the configured waits while the engagement allows attempts, and a run
whose listing never succeeds fails with the reason on its record, no job left behind; an
item's job is tried again after the configured first wait, doubling."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_helpers import due_ids, engagement_for
from fleet_helpers import fleet_database, one_quote_each, quote_on_the_fleet
from sandbox_helpers import running_portal
from sqlalchemy import create_engine, text

from sandbox.config import FaultConfig
from schemas.work import ItemState, RunStatus
from store import open_store

pytestmark = pytest.mark.postgres

FAST = {
    "QUOTEBOT_RETRY__ATTEMPTS": "1",  # each 503 of the list is one attempt of the listing
    "QUOTEBOT_BACKOFF__FIRST_WAIT_S": "0.2",
    "QUOTEBOT_FLEET_TIMINGS__POLL_S": "0.2",
}


@pytest.mark.parametrize("failures", [4, 6])
def test_a_renewal_list_failing_n_times_is_listed_again_within_six_attempts(
    tmp_path: Path, failures: int
) -> None:
    faults = FaultConfig(busy_list=failures)
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=6, faults=faults) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=6)
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [portal], [engagement], workers=1, slots=1, timeout_s=180, **FAST
        )
        if failures < 6:
            assert [code for code, _ in runs] == [0], (runs, outputs)
            one_quote_each(db_url, portal, engagement)
        else:
            assert [code for code, _ in runs] == [1], (runs, outputs)
            with open_store(db_url) as store:
                (run,) = store.runs(engagement.name)
                assert run.status is RunStatus.FAILED
                assert "503" in (run.error or ""), run.error
                assert store.items(engagement.name) == []
        assert _jobs_not_ended(db_url) == 0, "no job is left waiting or running"
        log = portal.server.app.state.fault_stats.log
        listed = [busy for _, _, path, busy in log if path == "/opportunities" and busy]
        assert len(listed) == failures


def test_an_items_attempts_wait_the_configured_first_wait_doubling(tmp_path: Path) -> None:
    """One renewal's page is unreachable: its job's attempts start 3 s, 6 s, 12 s after the
    one before failed."""
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=6) as portal,
    ):
        engagement = engagement_for(portal, max_attempts=4)
        target = sorted(due_ids(portal, engagement))[0]  # its page never loads
        portal.server.app.state.outage.begin(3600, f"/api/opportunities/{target}")
        env = {**FAST, "QUOTEBOT_BACKOFF__FIRST_WAIT_S": "3"}
        runs, outputs = quote_on_the_fleet(
            tmp_path, db_url, [portal], [engagement], workers=1, slots=1, timeout_s=240, **env
        )
        assert [code for code, _ in runs] == [0], (runs, outputs)
        with open_store(db_url) as store:
            (item,) = [i for i in store.items(engagement.name) if i.opportunity_id == target]
            assert item.state is ItemState.FAILED and item.failure_kind == "system", item
        waits = _waits_between_attempts(db_url, item.id)
        assert len(waits) == 3, waits
        for wait, configured in zip(waits, [3, 6, 12], strict=True):
            assert configured - 0.1 <= wait <= configured + 1.5, waits


def _waits_between_attempts(db_url: str, item_id: int) -> list[float]:
    """Seconds from each failed attempt of the item's job to the start of the next."""
    events = text(
        "SELECT e.type, extract(epoch FROM e.at) FROM procrastinate_events e"
        " JOIN procrastinate_jobs j ON j.id = e.job_id"
        " WHERE j.task_name = 'quotebot:work_item' AND (j.args->>'item_id')::int = :item"
        " AND e.type IN ('started', 'deferred_for_retry') ORDER BY e.at, e.id"
    )
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = [(kind, float(at)) for kind, at in conn.execute(events, {"item": item_id})]
    finally:
        engine.dispose()
    failed_at = [at for kind, at in rows if kind == "deferred_for_retry"]
    started = [at for kind, at in rows if kind == "started"]
    return [start - end for end, start in zip(failed_at, started[1:], strict=False)]


def _jobs_not_ended(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()
