"""One retry policy for everything retried in place: its limits, counted at the server.

The server here is a real HTTP server on localhost that answers every request 503 and logs
each one, so the count of tries is what really reached it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from bot_helpers import SELECTORS, due_ids, engagement_for
from playwright.sync_api import Page
from sandbox_helpers import running_portal

from bots import PortalError, RunOptions, run_engagement
from bots.portals import bot_class
from sandbox.config import FaultConfig
from schemas.engagement import load_engagements
from schemas.selector_map import load_selector_map
from schemas.settings import Backoff, RetryPolicy, Settings
from schemas.work import ItemState, RunStatus
from store import Store


@contextmanager
def always_busy() -> Iterator[tuple[str, list[str]]]:
    """A portal that answers 503 to everything; the paths it was asked for, in order."""
    asked: list[str] = []

    class Busy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            asked.append(self.path)
            self.send_response(503)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"503 Service Unavailable")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("attempts", [1, 3])
def test_discovery_asks_a_busy_page_exactly_as_often_as_the_policy_says(
    page: Page, attempts: int
) -> None:
    """The renewal list's first page is tried `attempts` times in all: the list read is not
    retried around the page's own retries (no nesting: 3 x 4 tries before)."""
    policy = RetryPolicy(attempts=attempts, first_wait_s=0.01, max_wait_s=0.01)
    with always_busy() as (url, asked):
        bot = bot_class("acme")(
            page, url, load_selector_map(SELECTORS / "acme.yaml"), lambda: None, retry=policy
        )
        with pytest.raises(PortalError) as failed:
            bot.due_opportunities(date(2026, 1, 1), date(2026, 12, 31))
    assert failed.value.code == "http_503"
    pages = [p.split("?")[0] for p in asked if not p.startswith("/favicon")]
    assert pages == ["/opportunities"] * attempts
    assert bot.in_place.retries == attempts - 1


COMMON = {
    "flavour": "acme",
    "url": "http://127.0.0.1:9/",
    "username_env": "U",
    "password_env": "P",
    "selectors": "acme.yaml",
    "rules": "rules.yaml",
}


def test_an_engagement_overrides_the_settings_limits(tmp_path: Path) -> None:
    config = tmp_path / "engagements.yaml"
    docs = [
        {"name": "patient", **COMMON, "retry": {"attempts": 7, "max_wait_s": 30}},
        {"name": "plain", **COMMON},
    ]
    config.write_text(yaml.safe_dump({"engagements": docs}), encoding="utf-8")
    patient, plain = load_engagements(config, check_files=False)
    settings = Settings(home=tmp_path, retry=RetryPolicy(attempts=2, first_wait_s=1))
    assert settings.retry.overridden(patient.retry) == RetryPolicy(
        attempts=7, first_wait_s=1, max_wait_s=30
    )
    assert settings.retry.overridden(plain.retry) == settings.retry


def test_a_bad_retry_limit_names_the_engagement_and_key(tmp_path: Path) -> None:
    config = tmp_path / "engagements.yaml"
    doc = {"name": "x", **COMMON, "retry": {"attempts": 0}}
    config.write_text(yaml.safe_dump({"engagements": [doc]}), encoding="utf-8")
    with pytest.raises(ValueError) as bad:
        load_engagements(config, check_files=False)
    assert "retry.attempts" in str(bad.value)
    assert str(config) in str(bad.value)


@pytest.mark.slow
def test_at_30_percent_503s_each_page_is_asked_at_most_as_often_as_the_policy_says(
    tmp_path: Path, quotebot_store: Store
) -> None:
    """Counted in the portal's own request log: a page answered 503 is asked again at once,
    and never more often in a row than the policy's attempts (3), however the tries nest in
    the code (a page load inside a listing, a log-in inside a page load). Only an item's
    next attempt (or the next item, once one has failed), recorded in the store, may ask for
    it again after that."""
    attempts = 3
    faults = FaultConfig(error_rate=0.3, seed=11)
    with running_portal(tmp_path / "portal", "acme", opportunities=8, faults=faults) as portal:
        # Items may fail after their attempts here (a portal this busy breaks most of them);
        # what is counted is how often each page was asked in a row.
        engagement = engagement_for(portal, workers=1, max_attempts=6)
        settings = Settings(
            home=tmp_path / "home",
            retry=RetryPolicy(attempts=attempts, first_wait_s=0.05, max_wait_s=0.1),
        )
        options = RunOptions(today=portal.config.today, progress=False, backoff_s=0.1)
        run_engagement(engagement, "quote", quotebot_store, settings=settings, options=options)
        log = list(portal.server.app.state.fault_stats.log)
    # Where an item's attempt ended: put back for a later attempt, or failed for good (the
    # next item then asks for the shared pages, /quotes/new or /login, on a budget of its own).
    attempts_ended = sorted(
        e.at.timestamp()
        for e in quotebot_store.events(engagement=engagement.name)
        if (e.from_state == e.to_state and (e.data or {}).get("kind") == "system")
        or e.to_state == ItemState.FAILED
    )

    # Asks of one page in a row within one budget: the 503s, and the answer that ended them.
    runs: list[tuple[int, str]] = []  # (asks, the path)
    open_runs: dict[str, tuple[int, float]] = {}  # path -> (503s so far, the last at)
    for at, method, path, busy in log:
        if path == "/logout" and not busy:
            # A session signed out (a log-in whose next page failed gives its session back
            # before it is tried again): the sign-out's page visit and the next log-in ask
            # on budgets of their own.
            runs += [(count, p) for p, (count, _) in open_runs.items()]
            open_runs.clear()
            continue
        if method != "GET" or path.startswith(("/api/", "/static/", "/favicon")):
            continue
        count, last = open_runs.pop(path, (0, at))
        if count and any(last < t < at for t in attempts_ended):
            runs.append((count, path))  # given up; the next attempt has a budget of its own
            count = 0
        if busy:
            open_runs[path] = (count + 1, at)
        elif count:
            runs.append((count + 1, path))
    runs += [(count, path) for path, (count, _) in open_runs.items()]

    pages = [p for _, m, p, _ in log if m == "GET" and not p.startswith(("/api/", "/static/"))]
    assert len(pages) > 20, "enough page loads to see the policy at work"
    assert sum(busy for *_, busy in log) / len(log) > 0.15, "the portal was really that busy"
    assert runs and max(runs)[0] <= attempts, sorted(runs, reverse=True)[:5]
    assert any(n >= 2 for n, _ in runs), "a page answered 503 was asked again at once"
    assert quotebot_store.items(engagement.name), "the renewals were listed, however busy"


def test_limits_and_fleet_timings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTEBOT_RETRY__ATTEMPTS", "6")
    monkeypatch.setenv("QUOTEBOT_FLEET_TIMINGS__HEARTBEAT_S", "5")
    monkeypatch.setenv("QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S", "30")
    settings = Settings()
    assert settings.retry.attempts == 6
    assert (settings.fleet_timings.heartbeat_s, settings.fleet_timings.stalled_after_s) == (5, 30)

    monkeypatch.setenv("QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S", "8")
    with pytest.raises(ValueError, match="stalled_after_s must be more than twice heartbeat_s"):
        Settings()


@pytest.mark.parametrize("failures", [4, 6])
def test_in_process_a_renewal_list_failing_n_times_is_listed_again_within_six_attempts(
    tmp_path: Path, quotebot_store: Store, failures: int
) -> None:
    """The portal answers the renewal list 503 `failures` times in a row, one attempt of the
    listing each (no retry in place): with six attempts, four failures leave every due
    renewal quoted once; six fail the run with the reason on its record, no item made."""
    faults = FaultConfig(busy_list=failures)
    with running_portal(tmp_path / "portal", "acme", opportunities=6, faults=faults) as portal:
        engagement = engagement_for(portal, workers=1, max_attempts=6)
        settings = Settings(
            home=tmp_path / "home",
            retry=RetryPolicy(attempts=1),
            backoff=Backoff(first_wait_s=0.2),
        )
        options = RunOptions(today=portal.config.today, progress=False)
        if failures < 6:
            run_engagement(engagement, "quote", quotebot_store, settings=settings, options=options)
        else:
            with pytest.raises(PortalError, match="503"):
                run_engagement(
                    engagement, "quote", quotebot_store, settings=settings, options=options
                )
        (run,) = quotebot_store.runs(engagement.name)
        log = portal.server.app.state.fault_stats.log
        assert len([p for _, _, p, busy in log if p == "/opportunities" and busy]) == failures
        items = quotebot_store.items(engagement.name)
        if failures < 6:
            assert run.status is RunStatus.SUCCEEDED
            assert {i.opportunity_id for i in items} == due_ids(portal, engagement)
            with portal.open_db() as db:
                for item in items:
                    quotes = db.find_quotes(opportunity_id=item.opportunity_id)
                    assert len(quotes) == (item.failure_kind != "business"), (item, quotes)
        else:
            assert run.status is RunStatus.FAILED
            assert "503" in (run.error or ""), run.error
            assert items == []
