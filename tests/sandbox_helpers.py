"""Shared helpers for sandbox tests: start a portal on a free port, log in through its UI.

with running_portal(tmp_path, "acme", totp=True) as portal:
    login(page, portal)
    ...
    with portal.open_db() as db:   # the portal's own database, for assertions
        db.get_quote(...)
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Page, expect

from sandbox.config import FaultConfig, Flavour, SandboxConfig
from sandbox.generate import generate, load_credentials
from sandbox.models import Credentials, Opportunity
from sandbox.portal import Portal
from sandbox.server import SandboxServer

TODAY = date(2026, 1, 15)


def term_start_of(opportunity: Opportunity) -> date:
    """The renewal term's first day (the opportunity must have a contract end)."""
    assert opportunity.contract_end is not None, opportunity.opportunity_id
    return opportunity.contract_end + timedelta(days=1)


class FakeClock:
    """A session clock the test moves forward, so idle expiry needs no sleep."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class RunningPortal:
    base_url: str
    config: SandboxConfig
    credentials: Credentials
    server: SandboxServer
    clock: FakeClock | None = None
    ground_truth: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    @contextmanager
    def open_db(self) -> Iterator[Portal]:
        """A second, independent connection to the portal's own database."""
        with Portal(self.config.db_path, today=self.config.today) as portal:
            yield portal

    def restart(self, down_s: float = 0.0) -> None:
        """Stop the portal and, `down_s` later, serve the same data on the same port again:
        every session ends and requests in flight fail, as when a client redeploys."""
        import time

        port = int(self.base_url.rsplit(":", 1)[1])
        self.server.stop()
        time.sleep(down_s)
        server = SandboxServer(self.config.model_copy(update={"port": port}))
        server.start()
        self.server = server

    def planted(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.ground_truth["anomalies"] if a["kind"] == kind]

    def regular_opportunities(self) -> list[str]:
        """Opportunities with no planted anomaly (a stale editor default aside)."""
        planted = {
            a["opportunity_id"]
            for a in self.ground_truth["anomalies"]
            if a["kind"] != "stale_default_price"
        }
        with self.open_db() as db:
            rows = db.list_opportunities(per_page=200).items
        return [r.opportunity_id for r in rows if r.opportunity_id not in planted]


@contextmanager
def running_portal(
    data_dir: Path,
    flavour: Flavour = "acme",
    *,
    seed: int = 7,
    opportunities: int = 60,
    totp: bool = False,
    session_ttl: float = 1800.0,
    max_sessions: int | None = None,
    faults: FaultConfig | None = None,
    fake_clock: bool = False,
    acme_assets: Path | None = None,
    portal_proration: str | None = None,
    globex_templates: Path | None = None,
) -> Iterator[RunningPortal]:
    """Generate data in `data_dir` and serve it on 127.0.0.1 until the block ends
    (`portal_proration`: the portal prorates by another method than the rules)."""
    paths = generate(
        data_dir, seed, opportunities, TODAY, client=flavour, portal_proration=portal_proration
    )
    config = SandboxConfig(
        flavour=flavour,
        data_dir=data_dir,
        seed=seed,
        today=TODAY,
        totp=totp,
        session_ttl=session_ttl,
        max_sessions=max_sessions,
        faults=faults or FaultConfig(),
        acme_assets=acme_assets,
        globex_templates=globex_templates,
    )
    server = SandboxServer(config)
    clock = FakeClock() if fake_clock else None
    if clock is not None:
        server.app.state.sessions.clock = clock
    base_url = server.start()
    running = RunningPortal(
        base_url=base_url,
        config=config,
        credentials=load_credentials(data_dir),
        server=server,
        clock=clock,
        ground_truth=json.loads(paths.ground_truth.read_text(encoding="utf-8")),
    )
    try:
        yield running
    finally:
        running.server.stop()


def login(page: Page, portal: RunningPortal, path: str = "/opportunities") -> None:
    """Open `path`, get sent to the login page, sign in (and pass TOTP when asked)."""
    page.goto(portal.url(path))
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in(page, portal)
    expect(page).to_have_url(portal.url(path))


def sign_in(page: Page, portal: RunningPortal) -> None:
    """Fill the login form already on screen (and the TOTP step when the portal asks)."""
    page.locator("input[name=username]").fill(portal.credentials.username)
    page.locator("input[name=password]").fill(portal.credentials.password)
    page.locator("[type=submit]").click()
    if portal.config.totp:
        expect(page).to_have_url(re.compile(r"/login/totp"))
        page.locator("input[name=code]").fill(pyotp.TOTP(portal.credentials.totp_secret).now())
        page.locator("[type=submit]").click()


def change_password(portal: RunningPortal) -> None:
    """The portal's administrator resets the bot user's password: the old one stops working."""
    with sqlite3.connect(portal.config.db_path) as db:
        db.execute("UPDATE users SET salt = salt || 'reset'")
