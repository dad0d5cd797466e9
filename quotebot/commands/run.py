"""`quotebot run` and `quotebot check-selectors`: what operations staff start by hand."""

from __future__ import annotations

import json
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
from schemas.fingerprint import KeyCheck
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
@click.option(
    "--suggest",
    is_flag=True,
    help="For each drifted key, where its element may have gone; the proposed map is "
    "written beside the engagement's (<map>.proposed.yaml).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key checked.")
@engagements_option
@today_option
@click.pass_obj
def check_selectors_command(
    settings: Settings,
    engagement: str,
    suggest: bool,
    as_json: bool,
    engagements_path: Path | None,
    today: datetime | None,
) -> None:
    """Visit an engagement's portal read-only and list every selector that no longer matches.

    The fingerprints it compares with are those the engagement's runs and checks kept in
    the store (a check on an unchanged portal keeps them too).
    """
    from bots import BusinessError, EngagementRefused, check_selectors

    target = find_engagement(settings, engagements_path, engagement)
    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        report = check_selectors(target, settings, today.date() if today else date.today())
    except (SelectorMapError, BusinessError) as exc:
        raise click.ClickException(str(exc)) from None
    except EngagementRefused as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        for check in report.checks:
            click.echo(json.dumps(_key_object(check)))
    else:
        for drift in report.drifts:
            click.echo(f"DRIFT  {drift.key}  on {drift.url}")
            if suggest:
                _print_candidates(report.checks, drift.key)
        for name in report.unchecked:
            click.echo(f"not checked  {name} (no record to open it with)")
        click.echo(
            f"{target.name}: {len(report.drifts)} of {report.selectors} selectors do not match"
        )
    if suggest and report.proposed_map is not None:
        proposed = target.selectors.with_name(f"{target.selectors.stem}.proposed.yaml")
        try:
            proposed.write_text(report.proposed_map, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {proposed}: {exc.strerror}") from None
        click.echo(f"proposed map written to {proposed}", err=True)
    sys.exit(1 if report.drifts else 0)


def _key_object(check: KeyCheck) -> dict[str, object]:
    """`check-selectors --json`: one key checked (page, key, selector, status, candidates)."""
    found = check.suggestion
    confident = found.confident if found else None
    return {
        "page": check.page,
        "key": check.key,
        "selector": check.selector,
        "status": check.status,
        "status_label": check.status_label,
        "candidates": [
            {
                "selector": c.selector,
                "frame": c.frame,
                "score": round(c.score, 3),
                "confident": confident == c,
                "matched": {k: round(v, 3) for k, v in c.matched.items()},
            }
            for c in (found.candidates if found else ())
        ],
        "reason": found.reason if found else None,
    }


def _print_candidates(checks: list[KeyCheck], key: str) -> None:
    check = next((c for c in checks if f"{c.page}.{c.key}" == key), None)
    if check is None or check.suggestion is None:
        click.echo("       no fingerprint kept for it: nothing to compare the page with")
        return
    click.echo(f"       the key {check.status_label}; {check.suggestion.reason}")
    for c in check.suggestion.candidates:
        alike = ", ".join(k for k, v in c.matched.items() if v >= 0.8) or "-"
        differ = ", ".join(k for k, v in c.matched.items() if v < 0.3) or "-"
        where = f"{c.frame} >> " if c.frame else ""
        click.echo(f"       {c.score:.2f}  {where}{c.selector or '(no locator)'}  <{c.tag}>")
        click.echo(f"             same: {alike}; differs: {differ}")


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        logger.warning("{} received: stopping after the items in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
