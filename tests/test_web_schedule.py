"""Operations add, change and pause a schedule on the web page: it goes into the
engagements file (checked as the file is checked, comments kept), into the audit trail,
and a running `quotebot scheduler start` takes it within seconds and fires it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect
from web_helpers import PASSWORD, SECRET

from sandbox.generate import generate
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _file(folder: Path) -> Path:
    generate(folder / "portal", 7, 5, date(2026, 1, 15), client="acme")
    engagement = {
        "name": "acme",
        "flavour": "acme",
        "url": "http://127.0.0.1:9",
        "username_env": "WORDS_ACME_USER",
        "password_env": "WORDS_ACME_PASSWORD",
        "selectors": str(REPO / "selectors" / "acme.yaml"),
        "rules": "portal/rules.yaml",
        "timezone": "Europe/London",
    }
    path = folder / "engagements.yaml"
    text = yaml.safe_dump({"engagements": [engagement]}, sort_keys=False)
    path.write_text("# operations' engagements: keep this line\n" + text, encoding="utf-8")
    return path


def _until(what: Callable[[], object], seconds: float = 90) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture
def scheduled(tmp_path: Path) -> Iterator[tuple[Store, Path, str]]:
    home = tmp_path / "home"
    home.mkdir()
    path = _file(tmp_path)
    db_url = f"sqlite:///{home / 'quotebot.sqlite'}"
    store = open_store(db_url)
    store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
    env = {
        **os.environ,
        "QUOTEBOT_HOME": str(home),
        "QUOTEBOT_DATABASE_URL": db_url,
        "QUOTEBOT_RETRY__ATTEMPTS": "1",
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "quotebot", "scheduler", "start", "--engagements", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = create_app(store, WebSettings(secret_key=SECRET), engagements=path, home=home)
    try:
        with WebServer(app) as base_url:
            yield store, path, base_url
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=120)
        store.close()


def test_a_schedule_added_changed_and_paused_on_the_web_is_fired_and_kept(
    page: Page, scheduled: tuple[Store, Path, str]
) -> None:
    store, path, base_url = scheduled
    page.goto(f"{base_url}/schedule")
    page.get_by_label("Name").fill("olga")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    row = page.locator("tr[data-engagement=acme][data-kind=quote]")
    expect(row).to_contain_text("no schedule")
    _until(lambda: store.last_scheduler_beat())

    # Refused as the file would be: nothing written, what was typed kept, the key named.
    before = path.read_text(encoding="utf-8")
    row.get_by_label(re.compile("Cron")).fill("61 6 * * *")
    row.get_by_role("button", name="Add").click()
    problem = page.get_by_test_id("problem")
    expect(problem).to_contain_text("engagements.0.schedules.quote")
    expect(problem).to_contain_text(str(path))
    expect(row.get_by_label(re.compile("Cron"))).to_have_value("61 6 * * *")
    assert path.read_text(encoding="utf-8") == before

    # Added: every two seconds, so that the scheduler fires it while we watch.
    row.get_by_label(re.compile("Cron")).fill("*/2 * * * * *")
    row.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("done")).to_contain_text("acme quoting: schedule added")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# operations' engagements: keep this line\n")
    assert yaml.safe_load(text)["engagements"][0]["schedules"] == {"quote": "*/2 * * * * *"}
    fired = _until(lambda: [r for r in store.recent_runs(None) if r.kind == "quote"])
    assert fired, "the scheduler fired the schedule added on the web"
    expect(row).to_contain_text("every 2 seconds")

    # Changed: the scheduler's job follows the file.
    row.get_by_label(re.compile("Cron")).fill("0 6 * * 1-5")
    row.get_by_role("button", name="Change").click()
    expect(page.get_by_test_id("done")).to_contain_text("schedule changed")
    expect(row).to_contain_text("06:00, Monday to Friday")

    def at_six() -> bool:
        jobs = [j for j in store.scheduled_runs() if j.kind == "quote"]
        moment = jobs[0].next_run if jobs else None
        return moment is not None and moment.astimezone().minute == 0

    _until(at_six)
    row.get_by_role("button", name="Pause").click()
    expect(page.get_by_test_id("done")).to_contain_text("paused")
    _until(lambda: [j for j in store.scheduled_runs() if j.kind == "quote" and j.paused])

    trail = [(t.action, t.actor, t.after) for t in store.trail() if t.subject == "acme quote"]
    assert ("schedule_added", "olga", {"cron": "*/2 * * * * *", "timezone": "Europe/London"}) in (
        trail
    )
    assert ("schedule_changed", "olga", {"cron": "0 6 * * 1-5", "timezone": "Europe/London"}) in (
        trail
    )
    assert any(action == "schedule_paused" for action, _, _ in trail)
    page.goto(f"{base_url}/trail")
    expect(page.get_by_test_id("trail")).to_contain_text("schedule added")
