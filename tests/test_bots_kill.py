"""Exactly once under SIGKILL: the bot process is killed at random moments of its runs,
restarted each time, and the portal still ends with one quote per renewal and one booking
per accepted quote."""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

from bot_helpers import bot_process, due_ids, engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal

from schemas.work import ItemState
from store import open_store

KILLS = 20


def test_killed_runs_never_duplicate_or_lose_a_quote_or_booking(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    with running_portal(tmp_path / "portal", "acme", opportunities=16) as portal:
        engagement = engagement_for(portal, workers=2, max_attempts=5)
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        home = tmp_path / "home"
        env = {
            **os.environ,
            **portal_env(engagement),
            "QUOTEBOT_HOME": str(home),
            "QUOTEBOT_RECONCILE_GRACE_S": "1",
        }
        args = [
            "run",
            engagement.name,
            "--engagements",
            str(config),
            "--no-progress",
            "--today",
            portal.config.today.isoformat(),
        ]

        kills = 0
        while kills < KILLS:
            bot = bot_process(args, env)
            try:
                bot.wait(timeout=rng.uniform(1.5, 7.0))
            except subprocess.TimeoutExpired:
                os.killpg(bot.pid, signal.SIGKILL)  # the bot and its browsers, like a crash
                bot.wait()
                kills += 1
            assert bot.stderr is not None
            bot.stderr.close()

        for _ in range(4):  # restarts until the work is done
            bot = bot_process(args, env)
            _, stderr = bot.communicate(timeout=600)
            with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
                states = Counter(i.state for i in store.items(engagement.name))
            if bot.returncode == 0 and not states.keys() & {
                ItemState.NEW,
                ItemState.PRICED,
                ItemState.ENTERED,
            }:
                break
        assert bot.returncode == 0, stderr.decode()[-2000:]

        store = open_store(f"sqlite:///{home / 'quotebot.sqlite'}")
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        assert set(items) == due_ids(portal, engagement)
        with portal.open_db() as db:
            orders = Counter(r.split(",")[0] for r in db.bookings_csv().splitlines()[1:])
            accepted = 0
            for opportunity_id, item in items.items():
                quotes = db.find_quotes(opportunity_id=opportunity_id)
                if item.state is ItemState.FAILED:
                    assert item.failure_kind == "business", item.failure_reason
                    assert quotes == []
                    continue
                assert len(quotes) == 1, f"{opportunity_id}: {[q.quote_number for q in quotes]}"
                assert quotes[0].external_ref == item.reference
                assert quotes[0].status in {"submitted", "booked"}
                if quotes[0].customer_po is not None and item.state is not ItemState.FLAGGED:
                    accepted += 1
                    assert orders[quotes[0].quote_number] == 1
                    assert item.state is ItemState.BOOKED
        assert accepted > 0
        assert all(count == 1 for count in orders.values())
        intents = [i for item in items.values() for i in store.intents(item.id)]
        assert not [i for i in intents if i.status == "open"], "every intent reconciled"
        store.close()
