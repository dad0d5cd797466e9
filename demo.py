"""`quotebot demo`: the whole product on two simulated client portals, in a few minutes.

Starts the acme and globex sandbox portals in this process, seeds them, configures two
engagements, runs quoting and then booking through the scheduler, audits the portals'
exports, writes the manager report and prints what happened and where to look next.
Everything lands in `var/demo/` (replaced on each run); nothing leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
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
from demo_report import Summary, summarise, write_report
from schemas.engagement import load_engagements
from schemas.settings import Settings
from store import Store

FLAVOURS = ("acme", "globex")
SEED = 7
SCHEDULES = {"quote": "0 6 * * 1-5", "booking": "0 14 * * 1-5"}


@dataclass
class _Portal:
    flavour: str
    data_dir: Path
    url: str
    server: object


def _start_portals(home: Path, n: int, today: date) -> list[_Portal]:
    """Seed and serve each sandbox portal on a free port; its credentials go to the env."""
    from sandbox.config import SandboxConfig
    from sandbox.generate import generate, load_credentials
    from sandbox.server import SandboxServer

    portals = []
    for flavour in FLAVOURS:
        data_dir = home / "portals" / flavour
        generate(data_dir, SEED, n, today, client=flavour)
        server = SandboxServer(
            SandboxConfig(flavour=flavour, data_dir=data_dir, seed=SEED, today=today, totp=True)
        )
        url = server.start()
        credentials = load_credentials(data_dir)
        prefix = f"QUOTEBOT_DEMO_{flavour.upper()}"
        os.environ[f"{prefix}_USER"] = credentials.username
        os.environ[f"{prefix}_PASSWORD"] = credentials.password
        os.environ[f"{prefix}_TOTP"] = credentials.totp_secret
        portals.append(_Portal(flavour, data_dir, url, server))
    return portals


def _write_engagements(home: Path, portals: list[_Portal], workers: int) -> Path:
    """The engagements file an operations team would write: env var names, never values."""
    selectors = Path(__file__).resolve().parent / "selectors"
    entries = []
    for portal in portals:
        prefix = f"QUOTEBOT_DEMO_{portal.flavour.upper()}"
        entries.append(
            {
                "name": portal.flavour,
                "flavour": portal.flavour,
                "url": portal.url,
                "username_env": f"{prefix}_USER",
                "password_env": f"{prefix}_PASSWORD",
                "totp_env": f"{prefix}_TOTP",
                "selectors": str(selectors / f"{portal.flavour}.yaml"),
                "rules": str(portal.data_dir.resolve() / "rules.yaml"),
                "window": {"days_from": 90, "days_to": 150},
                "schedules": dict(SCHEDULES),
                "workers": workers,
                "timezone": "Europe/London",
            }
        )
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


def _audit(home: Path, portals: list[_Portal], today: date) -> dict[str, object]:
    """The batch audit of each portal's exports, as the audit team would run it."""
    from audit.batch import audit_files
    from audit.cli import write_findings
    from sandbox.portal import Portal

    results: dict[str, object] = {}
    for portal in portals:
        folder = home / "audit" / portal.flavour
        folder.mkdir(parents=True, exist_ok=True)
        with Portal(portal.data_dir / "portal.sqlite3", today=today) as db:
            window = (today + timedelta(days=90), today + timedelta(days=150))
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


def run_demo(
    home: Path, opportunities: int, workers: int, echo: Callable[[str], object] = click.echo
) -> Summary:
    """The demo, start to summary; `home` is emptied first."""
    started = time.monotonic()

    def step(text: str) -> None:
        echo(f"[{time.monotonic() - started:5.0f} s] {text}")

    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    # The demo's own database, whatever the environment points at.
    os.environ["QUOTEBOT_HOME"] = str(home)
    os.environ["QUOTEBOT_DATABASE_URL"] = f"sqlite:///{(home / 'quotebot.sqlite').resolve()}"
    today = date.today()
    step(f"1/5 seeding and starting the sandbox portals ({opportunities} renewals each)")
    portals = _start_portals(home, opportunities, today)
    try:
        path = _write_engagements(home, portals, workers)
        engagements = load_engagements(path)
        store = sched.process_store(Settings())
        scheduler = sched.make_scheduler(store, threads=len(engagements))
        scheduler.start()
        try:
            for engagement in engagements:
                sched.schedule_engagement(scheduler, engagement, path, progress=True)
            names = [e.name for e in engagements]
            step("2/5 quoting: the scheduler starts both engagements' quoting runs now")
            _run_through_scheduler(scheduler, names, "quote")
            step("3/5 booking: customer POs arrived for some quotes; booking runs now")
            _run_through_scheduler(scheduler, names, "booking")
        finally:
            scheduler.shutdown(wait=True)
        step("4/5 auditing the portals' exports against each client's rules")
        audits = _audit(home, portals, today)
    finally:
        for portal in portals:
            portal.server.stop()  # type: ignore[attr-defined]
    step("5/5 writing the manager report")
    summary = summarise(store, [e.name for e in engagements], audits, time.monotonic() - started)
    _manager_report(store, summary, home / "report.html", today)
    return summary


def _manager_report(store: Store, summary: Summary, path: Path, today: date) -> Path:
    """The web part's manager report (`quotebot report`); the demo's own page without it."""
    try:
        from web import _frames, report
    except ImportError:
        return write_report(summary, path)
    figures = _frames.figures(store, since=today - timedelta(days=29), until=today, today=today)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    return report.write(figures, path, "html", generated)


def _serve(home: Path, port: int) -> None:
    """Keep the people's pages up on the demo's data until Ctrl-C."""
    from web import serve_demo

    store = sched.process_store(Settings())
    server, people = serve_demo(
        store, engagements=home / "engagements.yaml", today=date.today(), port=port
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


@click.command("demo")
@click.option(
    "--opportunities",
    type=click.IntRange(10, 2000),
    default=200,
    show_default=True,
    help="Renewals seeded in each sandbox portal.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 4),
    default=3,
    show_default=True,
    help="Browsers per engagement.",
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Folder for everything the demo writes (emptied first).",
)
@click.option(
    "--serve",
    "port",
    type=int,
    default=None,
    is_flag=False,
    flag_value=8000,
    help="Then keep the web pages up on the results (port, default 8000).",
)
def demo_command(opportunities: int, workers: int, home: Path, port: int | None) -> None:
    """See the whole product work: two client portals quoted, booked, audited and reported.

    Runs on simulated portals on this machine (nothing leaves it) and takes a few minutes.
    """
    summary = run_demo(home, opportunities, workers)
    click.echo("")
    click.echo(summary.text(home))
    if port is not None:
        _serve(home, port)
