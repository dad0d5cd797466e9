"""Exactly once under faults, kills and restarts: a portal answering 5% 503s, slow, ending
sessions after 25 s and restarted at random; the bot process killed at random moments of its
runs (at least 30 times) and restarted each time. The portal still ends with one quote per
renewal and one booking per accepted quote, and no item failed because of the faults."""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from bot_helpers import (
    assert_each_renewal_entered_once,
    bot_process,
    due_ids,
    engagement_for,
    portal_env,
    write_engagements,
)
from sandbox_helpers import running_portal

from sandbox.config import FaultConfig
from schemas.work import ItemState
from store import open_store

KILLS = 30
RESTARTS = 6


@pytest.mark.slow
def test_faults_kills_and_restarts_never_duplicate_or_lose_a_quote_or_booking(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261203)
    faults = FaultConfig(latency_ms=(20, 80), error_rate=0.05, session_lifetime=25, seed=5)
    with running_portal(tmp_path / "portal", "acme", opportunities=16, faults=faults) as portal:
        engagement = engagement_for(portal, workers=2, max_attempts=8)
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

        kills = restarts = 0
        while kills < KILLS:
            bot = bot_process(args, env)
            try:
                bot.wait(timeout=rng.uniform(1.0, 5.0))
            except subprocess.TimeoutExpired:
                if restarts < RESTARTS and rng.random() < 0.3:
                    portal.restart(down_s=rng.uniform(0.2, 2.0))  # under the running bot
                    restarts += 1
                    try:
                        bot.wait(timeout=rng.uniform(0.5, 3.0))
                    except subprocess.TimeoutExpired:
                        pass
                if bot.poll() is None:
                    os.killpg(bot.pid, signal.SIGKILL)  # the bot and its browsers, a crash
                    bot.wait()
                    kills += 1
            assert bot.stderr is not None
            bot.stderr.close()
        assert restarts >= 3, restarts

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

        with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
            items = assert_each_renewal_entered_once(portal, store, engagement.name)
            assert set(items) == due_ids(portal, engagement)
        assert portal.server.app.state.fault_stats.errors > 0, "the faults really happened"
