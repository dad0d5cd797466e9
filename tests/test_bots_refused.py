"""A portal that refuses the bot user stops the run and touches no item.

A refused login (password changed, TOTP secret re-enrolled) is about the engagement, not
about any one renewal: sending every item to review would bury the audit team in bogus
items. The run fails with the reason on its record, and every item keeps its state.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pyotp
import pytest
from bot_helpers import engagement_for, item_snapshot, portal_env, write_engagements
from sandbox_helpers import RunningPortal, change_password, running_portal

from bots import RunOptions, run_engagement
from schemas.settings import Settings
from schemas.work import ItemState, RunStatus
from store import open_store


def _reenrol_totp(portal: RunningPortal) -> None:
    """The bot user's authenticator is enrolled again: codes from the old secret fail."""
    with sqlite3.connect(portal.config.db_path) as db:
        db.execute("UPDATE users SET totp_secret = ?", (pyotp.random_base32(),))


def _quotebot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quotebot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("refuse", [change_password, _reenrol_totp], ids=["password", "totp"])
def test_a_refused_login_stops_the_run_and_touches_no_item(refuse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with running_portal(tmp_path / "portal", "acme", opportunities=5, totp=True) as portal:
        engagement = engagement_for(portal)
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        home = tmp_path / "home"
        home.mkdir()
        settings = Settings(home=home)
        options = RunOptions(today=portal.config.today, progress=False)
        with open_store(settings.effective_database_url) as store:
            run_engagement(engagement, "quote", store, settings=settings, options=options)
            before = item_snapshot(store, engagement.name)
        assert ItemState.VERIFIED in before[0].values(), "the booking run has work to do"

        refuse(portal)
        env = {**os.environ, **portal_env(engagement), "QUOTEBOT_HOME": str(home)}
        today = portal.config.today.isoformat()
        for kind in ("booking", "quote"):
            args = ["run", engagement.name, "--kind", kind, "--no-progress", "--today", today]
            result = _quotebot([*args, "--engagements", str(config)], env)
            assert result.returncode != 0, result.stderr[-2000:]
            assert "login refused" in result.stderr, result.stderr[-2000:]

            with open_store(settings.effective_database_url) as store:
                assert item_snapshot(store, engagement.name) == before, "no item was touched"
                run = store.runs(engagement.name)[-1]
            assert run.kind.value == kind
            assert run.status is RunStatus.FAILED
            assert run.error is not None and "login refused" in run.error

            shown = _quotebot(["runs", "show", str(run.id)], env)
            assert shown.returncode == 0, shown.stderr
            assert "login refused" in shown.stdout
            assert "items touched: 0" in shown.stdout


def test_a_relogin_refused_mid_run_stops_the_quote_run(tmp_path: Path) -> None:
    """The session ends mid-run and the password has been changed meanwhile: the items not
    yet worked keep their state, and none goes to review for it."""
    with running_portal(tmp_path / "portal", "acme", opportunities=12, fake_clock=True) as portal:
        engagement = engagement_for(portal, workers=1)
        settings = Settings(home=tmp_path / "home")
        options = RunOptions(today=portal.config.today, progress=False)
        with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
            done = threading.Event()

            def refuse_after_the_first_item() -> None:
                while not done.wait(0.2):
                    states = {i.state for i in store.items(engagement.name)}
                    if states & {ItemState.VERIFIED, ItemState.FLAGGED, ItemState.FAILED}:
                        change_password(portal)
                        assert portal.clock is not None
                        portal.clock.advance(portal.config.session_ttl + 60)
                        return

            watcher = threading.Thread(target=refuse_after_the_first_item, daemon=True)
            watcher.start()
            try:
                result = run_engagement(
                    engagement, "quote", store, settings=settings, options=options
                )
            finally:
                done.set()
                watcher.join()
            items = store.items(engagement.name)
            run = store.run(result.run.id)
        assert run.status is RunStatus.FAILED
        assert run.error is not None and "login refused" in run.error
        finished = [i for i in items if i.state is not ItemState.NEW]
        assert 0 < len(finished) < len(items), "the run stopped part-way"
        assert not [i for i in items if i.failure_code == "login_refused"]
        planted = {a["opportunity_id"] for a in portal.ground_truth["anomalies"]}
        failed = {i.opportunity_id for i in items if i.state is ItemState.FAILED}
        assert failed <= planted, "an item failed only for its own planted bad data"
