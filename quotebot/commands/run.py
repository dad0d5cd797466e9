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

from quotebot._options import (
    chosen_kinds,
    engagements_option,
    find_engagement,
    kind_option,
    today_option,
)
from schemas.engagement import EngagementError
from schemas.selector_map import SelectorMapError
from schemas.settings import Settings
from schemas.work import counts_text


@click.command("run")
@click.argument("engagement")
@kind_option(both=True, default="both", help="Enter quotes, enter bookings, or both in turn.")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=None,
    help="Parallel browsers (default: the engagement's setting).",
)
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@engagements_option
@today_option
@click.pass_obj
def run_command(
    settings: Settings,
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
    from bots import BusinessError, RunOptions, run_engagement
    from store import RunAlreadyRunning, open_store

    target = find_engagement(settings, engagements_path, engagement)
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.fleet:
        from quotebot.commands.worker import fleet_run

        sys.exit(fleet_run(settings, target, chosen_kinds(kind), today))
    store = open_store(settings.effective_database_url)
    options = RunOptions(workers=workers, progress=progress, today=today.date() if today else None)
    _stop_on_signals(options.stop)
    failed = False
    for one in chosen_kinds(kind):
        if options.stop.is_set():
            break
        try:
            result = run_engagement(target, one, store, settings=settings, options=options)
        except RunAlreadyRunning as exc:
            raise click.ClickException(str(exc)) from None
        except (BusinessError, EngagementError, SelectorMapError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from None
        except Exception:  # noqa: BLE001 - the runner said why, once, and recorded it
            # Its "run failed: ..." line is the one line a person reads (-v: where).
            store.close()
            sys.exit(1)
        counts = counts_text(result.counts, "nothing to do")
        click.echo(f"{target.name} {one} run {result.run.id}: {result.run.status.value}; {counts}")
        stopped = result.refused.message if result.refused is not None else result.drift
        if stopped is not None:
            click.echo(f"  stopped: {stopped}", err=True)
            failed = True
            break
    store.close()
    sys.exit(1 if failed else 0)


@click.command("check-selectors")
@click.argument("engagement")
@engagements_option
@today_option
@click.pass_obj
def check_selectors_command(
    settings: Settings, engagement: str, engagements_path: Path | None, today: datetime | None
) -> None:
    """Visit an engagement's portal read-only and list every selector that no longer matches."""
    from bots import BusinessError, EngagementRefused, check_selectors

    target = find_engagement(settings, engagements_path, engagement)
    try:
        report = check_selectors(target, settings, today.date() if today else date.today())
    except (SelectorMapError, BusinessError) as exc:
        raise click.ClickException(str(exc)) from None
    except EngagementRefused as exc:
        raise click.ClickException(exc.message) from None
    for drift in report.drifts:
        click.echo(f"DRIFT  {drift.key}  on {drift.url}")
    for name in report.unchecked:
        click.echo(f"not checked  {name} (no record to open it with)")
    click.echo(f"{target.name}: {len(report.drifts)} of {report.selectors} selectors do not match")
    sys.exit(1 if report.drifts else 0)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        logger.warning("{} received: stopping after the items in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
