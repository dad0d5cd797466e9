"""Each cause, made for real on a sandbox portal and worked by the real bots in Chromium,
gives exactly one e-mail and one webhook call, nothing more while it lasts, and one
"resolved" when it clears; while the portal is down, its run's failing items are held back.
(A fleet worker killed while it holds an item: `test_alerts_fleet.py`.)"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from alert_helpers import (
    SECRET,
    SMTP_PASSWORD,
    Mailbox,
    Receiver,
    alert_settings,
    receiver,
    smtp_server,
)
from bot_helpers import engagement_for, map_with
from loguru import logger
from sandbox_helpers import RunningPortal, change_password, running_portal

from alerts import Alerting
from bots import RunOptions, run_engagement
from sandbox.config import FaultConfig
from schemas.engagement import Engagement
from schemas.settings import RetryOverride, Settings
from schemas.work import ItemState
from store import Store, open_store


@dataclass
class Watch:
    """Quotebot's store and alerting, and what the receivers got."""

    store: Store
    settings: Settings
    box: Mailbox
    endpoint: Receiver
    log: list[str]

    def look(self, times: int = 2) -> None:
        alerting = Alerting(self.store, self.settings)
        for _ in range(times):  # a second look must change nothing
            alerting.evaluate()

    def heard(self) -> tuple[Counter[str], Counter[str]]:
        mails = Counter(s.removeprefix("[quotebot] ") for s in self.box.subjects())
        hooks: Counter[str] = Counter()
        for call in self.endpoint.calls:
            assert call.valid, call.headers
            data = json.loads(call.body)["data"]
            hooks[f"{data['cause']} - {data['engagement']} ({data['status']})"] += 1
        return mails, hooks

    def assert_heard(self, *expected: str) -> None:
        mails, hooks = self.heard()
        assert mails == hooks == Counter(expected), (mails, hooks)
        # No secret anywhere: SMTP password, webhook secret, the portal's credentials.
        secrets = [SMTP_PASSWORD, SECRET.removeprefix("whsec_")]
        secrets += [os.environ[f"QB_TEST_ACME_{n}"] for n in ("PASSWORD", "TOTP")]
        said = [m.as_string() for m in self.box.messages] + self.log
        said += [c.body.decode() + json.dumps(c.headers) for c in self.endpoint.calls]
        assert self.log and not [s for s in secrets if any(s in text for text in said)]

    def run(self, engagement: Engagement, portal: RunningPortal, **options: object):  # type: ignore[no-untyped-def]
        opts = RunOptions(today=portal.config.today, progress=False, **options)  # type: ignore[arg-type]
        return run_engagement(engagement, "quote", self.store, settings=self.settings, options=opts)


@contextmanager
def watching(tmp_path: Path, **alerts: object) -> Iterator[Watch]:
    with smtp_server(tmp_path) as (box, smtp_port, cert), receiver() as endpoint:
        settings = alert_settings(tmp_path / "home", smtp_port, cert, endpoint, **alerts)
        log: list[str] = []
        sink = logger.add(log.append, level="DEBUG")
        try:
            with open_store(settings.effective_database_url) as store:
                yield Watch(store, settings, box, endpoint, log)
        finally:
            logger.remove(sink)


def test_a_refused_login_is_heard_once_and_resolved_by_the_next_login(tmp_path: Path) -> None:
    with (
        watching(tmp_path) as watch,
        running_portal(tmp_path / "portal", "acme", opportunities=4) as portal,
    ):
        engagement = engagement_for(portal, workers=1)
        change_password(portal)
        assert watch.run(engagement, portal).refused is not None
        watch.look()
        watch.assert_heard("run stopped - acme (new)")
        with sqlite3.connect(portal.config.db_path) as db:  # the password set right again
            db.execute("UPDATE users SET salt = substr(salt, 1, length(salt) - 5)")
        assert watch.run(engagement, portal).refused is None
        watch.look()
        watch.assert_heard("run stopped - acme (new)", "run stopped - acme (resolved)")


def test_drift_is_heard_once_and_resolved_by_a_clean_run(tmp_path: Path) -> None:
    with (
        watching(tmp_path) as watch,
        running_portal(tmp_path / "portal", "acme", opportunities=4) as portal,
    ):
        broken = map_with(
            tmp_path / "map", "acme", "opportunities.table", "[data-testid=renewal-grid]"
        )
        drifted = engagement_for(portal, workers=1, selectors=broken)
        assert watch.run(drifted, portal).drift is not None
        watch.look()
        watch.assert_heard("portal pages changed - acme (new)")
        assert watch.run(engagement_for(portal, workers=1), portal).drift is None
        watch.look()
        watch.assert_heard(
            "portal pages changed - acme (new)", "portal pages changed - acme (resolved)"
        )


@pytest.mark.slow
def test_a_run_failing_by_system_errors_is_heard_once_and_cleared_by_a_clean_run(
    tmp_path: Path,
) -> None:
    faults = FaultConfig(error_rate=0.35, seed=3)
    with (
        watching(tmp_path, portal_down_after_s=3600) as watch,
        running_portal(tmp_path / "portal", "acme", opportunities=10, faults=faults) as portal,
    ):
        # Items fail at their first system error; the renewal list's pages are read again in
        # place until they load (a run that cannot list its renewals fails as a whole).
        patient = RetryOverride(attempts=10, first_wait_s=0.05, max_wait_s=0.2)
        engagement = engagement_for(portal, workers=2, max_attempts=1, retry=patient)
        result = watch.run(engagement, portal, backoff_s=0.1)
        failed, verified = result.counts["failed"], result.counts["verified"]
        assert failed / (failed + verified + result.counts["flagged"]) >= 0.2, result.counts
        watch.look()
        watch.assert_heard("items failing - acme (new)")

        # The portal mended, operations send the failed items back: the next run works them
        # all, and the alert clears once.
        portal.config = portal.config.model_copy(update={"faults": FaultConfig()})
        portal.restart()
        for item in watch.store.items("acme"):
            if item.state is ItemState.FAILED:
                watch.store.transition(item.id, ItemState.NEW, reason="retried by operations")
        again = watch.run(engagement, portal, backoff_s=0.1)
        assert again.counts["failed"] == 0, again.counts
        watch.look()
        watch.assert_heard("items failing - acme (new)", "items failing - acme (resolved)")


def verified(store: Store) -> bool:
    if "acme" not in {e.name for e in store.engagements()}:
        return False
    return any(i.state is ItemState.VERIFIED for i in store.items("acme"))


@pytest.mark.slow
def test_a_portal_down_is_heard_once_and_holds_back_its_failing_items(tmp_path: Path) -> None:
    faults = FaultConfig(latency_ms=(150, 300))
    with (
        watching(tmp_path, portal_down_after_s=3) as watch,
        running_portal(tmp_path / "portal", "acme", opportunities=8, faults=faults) as portal,
    ):
        engagement = engagement_for(portal, workers=1, max_attempts=3)
        done: list[object] = []
        running = threading.Thread(
            target=lambda: done.append(watch.run(engagement, portal, backoff_s=0.5))
        )
        running.start()
        try:
            while not verified(watch.store):
                running.join(0.2)
                assert running.is_alive(), "the run ended before the portal went down"
            portal.server.stop()  # the client's portal goes down mid-run
            while running.is_alive():
                watch.look(1)
                running.join(0.5)
        finally:
            running.join()
        watch.look()
        watch.assert_heard("portal down - acme (new)")
        held = [a for a in watch.store.alerts() if a.rule.value == "system_errors"]
        assert [a.notified_at for a in held] == [None], "its failing items held back"

        portal.restart()
        watch.run(engagement, portal)
        watch.look()
        watch.assert_heard("portal down - acme (new)", "portal down - acme (resolved)")
