"""`quotebot demo`: the whole product on two simulated client portals, in a minute or two.

Starts the acme and globex sandbox portals in this process, seeds them, configures two
engagements, runs quoting and then booking through the scheduler, audits the portals'
exports, writes the manager report and prints its figures and where to look next.
Everything lands in `var/demo/` (replaced on each run); nothing leaves the machine.
With `--fleet`, three `quotebot worker` processes do the quoting and booking through the
task queue on the PostgreSQL at `QUOTEBOT_DATABASE_URL` (see `quotebot._demo_fleet`).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
import yaml
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.background import BackgroundScheduler

import scheduler as sched
from audit.batch import AuditResult, audit_files
from audit.findings_csv import write_findings
from audit.metrics import Figures
from audit.sampling import wilson
from quotebot import _demo_fleet
from quotebot._demo_text import summary_text
from sandbox.config import SandboxConfig
from sandbox.generate import generate, load_credentials
from sandbox.portal import Portal
from sandbox.server import SandboxServer
from schemas.settings import Settings
from schemas.work import RunKind
from store import Store
from web import forecast_panel as panel
from web import report, serve_demo

FLAVOURS = ("acme", "globex")
SEED = 7
SCHEDULES = {"quote": "0 6 * * 1-5", "booking": "0 14 * * 1-5"}
WINDOW = (90, 150)
"""Days from today to contract end that the demo's quoting runs pick up."""


@dataclass
class _Portal:
    flavour: str
    data_dir: Path
    url: str
    server: SandboxServer

    @property
    def prefix(self) -> str:
        """Where its credentials are: the names the engagements file gives."""
        return f"QUOTEBOT_DEMO_{self.flavour.upper()}"


@dataclass(frozen=True)
class DemoResult:
    """What the demo did: the managers' figures (as the report shows them) and the audits."""

    figures: Figures
    audits: dict[str, AuditResult]
    seconds: float
    home: Path
    workers: tuple[str, ...] = ()
    """What each fleet worker said it did as it stopped (`--fleet`)."""
    samples: tuple[str, ...] = ()
    """Per engagement: the verified quotes sampled for the audit team, against the rate."""

    def text(self) -> str:
        text = summary_text(self.figures, self.audits, self.seconds, self.home)
        if self.samples:
            text = "\n".join([text, "quality-control samples in the review queue:", *self.samples])
        if not self.workers:
            return text
        did = ["what each fleet worker did:", *(f"  {line}" for line in self.workers)]
        where = (
            f"  the demo's tables: schema {_demo_fleet.SCHEMA} of QUOTEBOT_DATABASE_URL's"
            f" database: add ?options=-csearch_path%3D{_demo_fleet.SCHEMA} to the URL"
        )
        return "\n".join([*did, text, where])


def _start_portals(home: Path, n: int, today: date) -> tuple[list[_Portal], Path]:
    """Seed and serve each sandbox portal on a free port; their logins go to a secrets
    file of the demo's home, readable by this user only, as an operations team keeps them."""
    portals, secrets = [], []
    for flavour in FLAVOURS:
        data_dir = home / "portals" / flavour
        generate(data_dir, SEED, n, today, client=flavour)
        server = SandboxServer(
            SandboxConfig(flavour=flavour, data_dir=data_dir, seed=SEED, today=today, totp=True)
        )
        portal = _Portal(flavour, data_dir, server.start(), server)
        credentials = load_credentials(data_dir)
        secrets += [
            f"{portal.prefix}_USER={credentials.username}",
            f"{portal.prefix}_PASSWORD={credentials.password}",
            f"{portal.prefix}_TOTP={credentials.totp_secret}",
        ]
        portals.append(portal)
    secrets_file = home / "secrets.env"
    secrets_file.touch(mode=0o600)
    secrets_file.write_text("\n".join(secrets) + "\n", encoding="utf-8")
    return portals, secrets_file


SAMPLE_ABOVE = Decimal(100_000)
"""The demo's engagements sample every verified quote above this total."""


def _write_engagements(
    home: Path, portals: list[_Portal], workers: int, sample_share: float = 5.0
) -> Path:
    """The engagements file an operations team would write: secret names, never values."""
    selectors = Path(__file__).resolve().parent.parent / "selectors"
    entries = [
        {
            "name": portal.flavour,
            "flavour": portal.flavour,
            "url": portal.url,
            "username_env": f"{portal.prefix}_USER",
            "password_env": f"{portal.prefix}_PASSWORD",
            "totp_env": f"{portal.prefix}_TOTP",
            "selectors": str(selectors / f"{portal.flavour}.yaml"),
            "rules": str(portal.data_dir.resolve() / "rules.yaml"),
            "window": {"days_from": WINDOW[0], "days_to": WINDOW[1]},
            "schedules": dict(SCHEDULES),
            "workers": workers,
            "timezone": "Europe/London",
            "sampling": {"share": sample_share, "above": int(SAMPLE_ABOVE)},
        }
        for portal in portals
    ]
    path = home / "engagements.yaml"
    path.write_text(yaml.safe_dump({"engagements": entries}, sort_keys=False), encoding="utf-8")
    return path


def _run_through_scheduler(scheduler: BackgroundScheduler, names: list[str], kind: str) -> None:
    """Start the engagements' scheduled `kind` jobs now, together, and wait for them."""
    pending = {sched.job_id(name, kind) for name in names}
    done = threading.Event()
    lock = threading.Lock()

    def finished(event: JobEvent) -> None:
        with lock:
            pending.discard(event.job_id)
            if not pending:
                done.set()

    mask = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
    scheduler.add_listener(finished, mask)
    try:
        now = datetime.now(UTC)
        for ident in sorted(pending):
            scheduler.modify_job(ident, jobstore="default", next_run_time=now)
        scheduler.wakeup()
        done.wait()
    finally:
        scheduler.remove_listener(finished)


def _audit(home: Path, portals: list[_Portal], today: date) -> dict[str, AuditResult]:
    """The batch audit of each portal's exports, as the audit team would run it."""
    results = {}
    window = (today + timedelta(days=WINDOW[0]), today + timedelta(days=WINDOW[1]))
    for portal in portals:
        folder = home / "audit" / portal.flavour
        folder.mkdir(parents=True, exist_ok=True)
        with Portal(portal.data_dir / "portal.sqlite3", today=today) as db:
            (folder / "opportunities.csv").write_text(
                db.opportunities_csv(end_from=window[0], end_to=window[1]), encoding="utf-8"
            )
            (folder / "quotes.csv").write_text(db.quotes_csv(), encoding="utf-8")
            (folder / "bookings.csv").write_text(db.bookings_csv(), encoding="utf-8")
        result = audit_files(
            portal.data_dir / "rules.yaml",
            folder / "opportunities.csv",
            folder / "quotes.csv",
            folder / "bookings.csv",
        )
        write_findings(result.findings, folder / "findings.csv")
        results[portal.flavour] = result
    return results


def demo_settings(home: Path, settings: Settings, *, fleet: bool = False) -> Settings:
    """The demo's own database, evidence and secrets, whatever the environment points at;
    `fleet`: the demo's own schema of the PostgreSQL at `QUOTEBOT_DATABASE_URL`, emptied."""
    home = home.resolve()
    database = (
        _demo_fleet.fleet_database(settings) if fleet else f"sqlite:///{home / 'quotebot.sqlite'}"
    )
    return settings.model_copy(
        update={
            "home": home,
            "database_url": database,
            "engagements": home / "engagements.yaml",
            "secrets_file": home / "secrets.env",
            "fleet": fleet,
        }
    )


def empty_home(settings: Settings) -> None:
    """The demo's home, emptied (everything in it is the demo's own, from a previous run)."""
    shutil.rmtree(settings.home, ignore_errors=True)
    settings.home.mkdir(parents=True)


def run_demo(
    settings: Settings,
    opportunities: int,
    workers: int,
    echo: Callable[[str], object] = click.echo,
    *,
    fleet: bool = False,
    sample_share: float = 5.0,
    emptied: bool = False,
) -> DemoResult:
    """The demo, start to summary; `settings.home` is emptied first (unless `emptied`: the
    caller did, and may have put the logs there since). `fleet`: quoting and booking by
    worker processes on `settings.database_url` (`fleet_settings`)."""
    started = time.monotonic()
    home = settings.home

    def step(text: str) -> None:
        echo(f"[{time.monotonic() - started:5.0f} s] {text}")

    if not emptied:
        empty_home(settings)
    today = date.today()
    step(f"1/5 seeding and starting the sandbox portals ({opportunities} renewals each)")
    portals, _ = _start_portals(home, opportunities, today)
    said: tuple[str, ...] = ()
    try:
        path = _write_engagements(home, portals, workers, sample_share)
        if fleet:
            store = sched.process_store(settings)  # migrated here, before the workers start
            said = _quote_and_book_on_fleet(settings, store, path, today, step)
        else:
            store = sched.process_store(settings)
            _quote_and_book_by_scheduler(settings, store, path, step)
        step("4/5 auditing the portals' exports against each client's rules")
        audits = _audit(home, portals, today)
    finally:
        for portal in portals:
            portal.server.stop()
    step("5/5 writing the manager report")
    figures = _manager_report(store, home / "report.html", today)
    samples = tuple(_samples_text(store, sample_share))
    return DemoResult(figures, audits, time.monotonic() - started, home, said, samples)


def _samples_text(store: Store, share: float) -> list[str]:
    """Each engagement's samples against the configured rate (the rest drawn at random)."""
    lines = []
    for c in store.sample_counts():
        rest = c.verified - c.by_value
        drawn = c.sampled - c.by_value
        if rest:
            low, high = wilson(drawn, rest)
            holds = "holds" if low <= share / 100 <= high else "does not hold"
            rate = (
                f"{drawn / rest:.1%}, 95 % interval {low:.1%}-{high:.1%} {holds} the"
                f" configured {share:g} %"
            )
        else:
            rate = f"none to draw from; configured {share:g} %"
        lines.append(
            f"  {c.engagement}: {c.sampled} of {c.verified} verified quotes: {drawn} of {rest}"
            f" drawn at random ({rate}), {c.by_value} for their total above {SAMPLE_ABOVE:,}"
        )
    return lines


def _quote_and_book_by_scheduler(
    settings: Settings, store: Store, path: Path, step: Callable[[str], None]
) -> None:
    engagements = sched.load_engagements(path)
    scheduler = sched.make_scheduler(settings, threads=len(engagements))
    scheduler.start()
    try:
        for engagement in engagements:
            sched.schedule_engagement(scheduler, engagement, path, store, progress=True)
        names = [e.name for e in engagements]
        step("2/5 quoting: the scheduler starts both engagements' quoting runs now")
        _run_through_scheduler(scheduler, names, "quote")
        step("3/5 booking: customer POs arrived for some quotes; booking runs now")
        _run_through_scheduler(scheduler, names, "booking")
    finally:
        scheduler.shutdown(wait=True)


def _quote_and_book_on_fleet(
    settings: Settings, store: Store, path: Path, today: date, step: Callable[[str], None]
) -> tuple[str, ...]:
    """Quoting, then booking, by `WORKERS` worker processes; what each said it did."""
    engagements = sched.load_engagements(path)
    n = _demo_fleet.WORKERS
    step(f"      {_demo_fleet.where(settings)} migrated; starting {n} `quotebot worker`s")
    workers = _demo_fleet.start_workers(settings, path)
    try:
        step(f"2/5 quoting: {n} worker processes share both engagements' item jobs")
        _demo_fleet.run_on_fleet(store, settings, engagements, RunKind.QUOTE, today, workers, step)
        step("3/5 booking: customer POs arrived for some quotes; booking jobs now")
        _demo_fleet.run_on_fleet(
            store, settings, engagements, RunKind.BOOKING, today, workers, step
        )
    finally:
        said = _demo_fleet.stop_workers(settings, workers)  # SIGTERM: items in hand finish
    return tuple(said)


def _manager_report(store: Store, path: Path, today: date) -> Figures:
    """The managers' figures of the last 30 days, written as `quotebot report` writes them."""
    figures = report.figures(store, since=None, until=None, today=today)
    forecast = panel(store, path.parent / "engagements.yaml", today=today)
    report.write(figures, path, "html", datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), forecast)
    return figures


def serve_results(settings: Settings, port: int) -> None:
    """Keep the people's pages up on the demo's data until Ctrl-C."""
    store = sched.process_store(settings)
    server, people = serve_demo(
        store,
        engagements=settings.engagements,
        today=date.today(),
        port=port,
        home=settings.home,
    )
    click.echo(f"\nthe review queue, runs, schedule and dashboard: {server.base_url}")
    for name, password in people.items():
        click.echo(f"  sign in as {name} / {password}")
    click.echo("Ctrl-C to stop")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
