"""`quotebot run` and `quotebot check-selectors`: what operations staff start by hand."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from types import FrameType

import click
from loguru import logger

from bots._errors import BusinessError
from schemas.engagement import Engagement, EngagementError, load_engagements
from schemas.selector_map import SelectorMapError
from schemas.settings import Settings

_engagements_option = click.option(
    "--engagements",
    "engagements_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The engagements file (default: $QUOTEBOT_ENGAGEMENTS or ./engagements.yaml).",
)
_today_option = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Business date to work as of (default: today).",
)


def find_engagement(settings: Settings, path: Path | None, name: str) -> Engagement:
    """The named engagement of the engagements file; a usage error names what is wrong."""
    path = path or settings.engagements
    try:
        engagements = {e.name: e for e in load_engagements(path)}
    except EngagementError as exc:
        raise click.UsageError(str(exc)) from None
    if name not in engagements:
        known = ", ".join(sorted(engagements)) or "none"
        raise click.UsageError(f"{path}: no engagement '{name}' (known: {known})")
    return engagements[name]


@click.command("run")
@click.argument("engagement")
@click.option(
    "--kind",
    type=click.Choice(["quote", "booking", "both"]),
    default="both",
    show_default=True,
    help="Enter quotes, enter bookings, or both in turn.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=None,
    help="Parallel browsers (default: the engagement's setting).",
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@_engagements_option
@_today_option
def run_command(
    engagement: str,
    kind: str,
    workers: int | None,
    progress: bool,
    engagements_path: Path | None,
    today: datetime | None,
) -> None:
    """Run an engagement now, in the foreground: quote the renewals due, book accepted quotes.

    Ctrl-C or SIGTERM stops after the items in hand; nothing is left half-entered.
    """
    from bots._runner import RunOptions, run_engagement
    from store import RunAlreadyRunning, open_store

    settings = Settings()
    target = find_engagement(settings, engagements_path, engagement)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.effective_database_url)
    options = RunOptions(workers=workers, progress=progress, today=today.date() if today else None)
    _stop_on_signals(options.stop)
    kinds = ["quote", "booking"] if kind == "both" else [kind]
    failed = False
    for one in kinds:
        if options.stop.is_set():
            break
        try:
            result = run_engagement(target, one, store, settings=settings, options=options)
        except RunAlreadyRunning as exc:
            raise click.ClickException(str(exc)) from None
        except (BusinessError, EngagementError, SelectorMapError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from None
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items())) or "nothing to do"
        click.echo(f"{target.name} {one} run {result.run.id}: {result.run.status.value}; {counts}")
        if result.drift is not None:
            click.echo(f"  stopped: {result.drift}", err=True)
            failed = True
            break
    store.close()
    sys.exit(1 if failed else 0)


@click.command("check-selectors")
@click.argument("engagement")
@_engagements_option
@_today_option
def check_selectors_command(
    engagement: str, engagements_path: Path | None, today: datetime | None
) -> None:
    """Visit an engagement's portal read-only and list every selector that no longer matches."""
    from bots._evidence import Evidence
    from bots._session import Credentials
    from bots._worker import Worker
    from schemas.selector_map import load_selector_map

    settings = Settings()
    target = find_engagement(settings, engagements_path, engagement)
    try:
        selector_map = load_selector_map(target.selectors)
        credentials = Credentials.from_env(
            target.username_env, target.password_env, target.totp_env
        )
    except (SelectorMapError, BusinessError) as exc:
        raise click.ClickException(str(exc)) from None
    evidence = Evidence(settings.home / "evidence", target.name)
    with Worker("check", target, selector_map, credentials, evidence, settings) as worker:
        drifts, unchecked = worker.bot.check_selectors(today.date() if today else date.today())
    for drift in drifts:
        click.echo(f"DRIFT  {drift.key}  on {drift.url}")
    for name in unchecked:
        click.echo(f"not checked  {name} (no record to open it with)")
    total = sum(len(p.selectors) for p in selector_map.pages.values())
    click.echo(f"{target.name}: {len(drifts)} of {total} selectors do not match")
    sys.exit(1 if drifts else 0)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        logger.warning("{} received: stopping after the items in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
