"""A failing job is recorded on its run and logged; the scheduler carries on."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from bot_helpers import SELECTORS, write_engagements
from scheduler_helpers import SchedulerProcess, kill_leftovers, until

import scheduler
from sandbox.generate import generate
from schemas.engagement import Engagement, Schedules
from schemas.settings import Settings
from schemas.work import RunStatus
from store import open_store


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    yield
    kill_leftovers()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_failed_runs_are_recorded_and_the_scheduler_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("QUOTEBOT_HOME", str(home))
    monkeypatch.delenv("QUOTEBOT_DATABASE_URL", raising=False)
    generate(tmp_path / "portal", 7, 5, date(2026, 1, 15), client="acme")
    env = {**os.environ, "DOWN_USER": "bot", "DOWN_PASSWORD": "not-a-secret"}
    engagement = Engagement(
        name="down",
        flavour="acme",
        url=f"http://127.0.0.1:{_closed_port()}",
        username_env="DOWN_USER",
        password_env="DOWN_PASSWORD",
        selectors=SELECTORS / "acme.yaml",
        rules=tmp_path / "portal" / "rules.yaml",
        schedules=Schedules(quote="*/2 * * * * *"),
        workers=1,
    )
    config = write_engagements(tmp_path / "engagements.yaml", [engagement])
    with scheduler.job_editor(Settings()) as editor:
        scheduler.schedule_engagement(
            editor, engagement, config, scheduler.process_store(Settings())
        )
    store = open_store(f"sqlite:///{home / 'quotebot.sqlite'}")

    def failed() -> list[str]:
        return [r.error or "" for r in store.runs("down", status=RunStatus.FAILED)]

    service = SchedulerProcess(config, env, tmp_path / "scheduler.log")
    until("two failed runs", lambda: len(failed()) >= 2)
    config.write_text("engagements: [oops\n")  # someone breaks the file while it runs
    until("a run failed on the file", lambda: any(str(config) in e for e in failed()))
    assert service.process.poll() is None, "the scheduler is still up"
    assert service.terminate() == 0

    errors = failed()
    assert "ERR_CONNECTION_REFUSED" in errors[0], errors[0]
    assert f"{config}:" in errors[-1] and "not valid YAML" in errors[-1]
    log = (tmp_path / "scheduler.log").read_text()
    assert "quote run failed" in log and "quote run not possible" in log
    assert "not-a-secret" not in log
    store.close()
