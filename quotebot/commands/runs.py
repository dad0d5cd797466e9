"""`quotebot runs …` and `quotebot items retry`: what operations staff look at after a run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import click

from schemas.settings import Settings
from schemas.words import (
    in_words,
    kind_words,
    reason_and_code,
    run_ending,
    run_status_words,
    without_code,
)
from schemas.work import FailureKind, ItemState, Run, RunStatus, counts_text, outcome_label
from store import InvalidTransition, Store, UnknownEngagement, UnknownRecord, open_store


def _store(settings: Settings) -> Store:
    settings.home.mkdir(parents=True, exist_ok=True)
    return open_store(settings.effective_database_url)


def _time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _took(run: Run) -> str:
    end = run.finished_at or run.heartbeat_at
    seconds = int((end - run.started_at).total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s"


@click.group("runs")
def runs_group() -> None:
    """Past and current runs: when, how long, what they did, why they failed."""


@runs_group.command("list")
@click.option("--engagement", default=None, help="Only this engagement's runs.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in RunStatus]),
    default=None,
    help="Only runs with this outcome.",
)
@click.option(
    "--last",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="How many of the newest runs to show.",
)
@click.pass_obj
def runs_list(settings: Settings, engagement: str | None, status: str | None, last: int) -> None:
    """List the newest runs (UTC times), newest last."""
    with _store(settings) as store:
        try:
            runs = store.runs(engagement, status=status)[-last:]
        except UnknownEngagement as exc:
            raise click.ClickException(str(exc)) from None
    if not runs:
        click.echo("no runs yet")
        return
    click.echo(
        f"{'RUN':>5}  {'ENGAGEMENT':<16} {'KIND':<8} {'ENDED':<24} {'STARTED (UTC)':<19}  "
        f"{'TOOK':>10}  ITEMS"
    )
    for run in runs:
        ended = run_status_words(run_ending(run.status.value, run.counts))
        line = (
            f"{run.id:>5}  {run.engagement:<16} {kind_words(run.kind.value):<8} {ended:<24} "
            f"{_time(run.started_at)}  {_took(run):>10}  {counts_text(run.counts, 'none')}"
        )
        click.echo(line + (f"  ({_why(run.error)})" if run.error else ""))


def _why(error: str | None) -> str:
    """A run's reason in words, its code after it."""
    said, code = reason_and_code(error)
    return in_words(said) + (f" [{code}]" if code else "")


@runs_group.command("show")
@click.argument("run_id", type=int)
@click.pass_obj
def runs_show(settings: Settings, run_id: int) -> None:
    """Show one run: outcome, counts, and every item it moved, with failures and evidence."""
    with _store(settings) as store:
        try:
            run = store.run(run_id)
        except UnknownRecord as exc:
            raise click.ClickException(str(exc)) from None
        events = [
            e
            for e in store.events(since=run.started_at, engagement=run.engagement)
            if e.run_id == run.id
        ]
        moved = sorted({e.item_id for e in events})
        items = [store.item(item_id) for item_id in moved]
        evidence = {i.id: store.evidence(i.id) for i in items if i.state is ItemState.FAILED}
        fleet = _fleet_lines(store, run.id)
    ended = run_status_words(run_ending(run.status.value, run.counts))
    click.echo(f"run {run.id}: {run.engagement} {kind_words(run.kind.value)}, {ended}")
    click.echo(f"  started {_time(run.started_at)} UTC, took {_took(run)}, by {run.worker}")
    click.echo(f"  counts: {counts_text(run.counts)}")
    if run.error:
        click.echo(f"  why it ended: {_why(run.error)}")
    for line in fleet:
        click.echo(line)
    states = Counter(i.state.value for i in items)
    click.echo(f"  items touched: {len(items)} (now {counts_text(dict(states))})")
    for item in items:
        if item.state is not ItemState.FAILED:
            continue
        click.echo(
            f"  item {item.id} {item.reference}: {outcome_label(item.state, item.failure_kind)}: "
            f"{without_code(item.failure_reason, item.failure_code)} [{item.failure_code}]"
        )
        for proof in evidence[item.id]:
            # Stored relative to the home (older rows: absolute, which `/` keeps).
            click.echo(f"      {proof.kind}: {settings.home / proof.path}")
    if any(i.state is ItemState.FAILED for i in items):
        click.echo("  retry a failed item with `quotebot items retry ID`")


def _fleet_lines(store: Store, run_id: int) -> list[str]:
    """A fleet run's item jobs by status, and which worker holds each item in progress."""
    if store.dialect != "postgresql":
        return []  # the embedded store has no fleet
    jobs = store.run_jobs(run_id)
    if not jobs:
        return []
    lines = [f"  fleet jobs: {counts_text(dict(Counter(j['status'] for j in jobs)))}"]
    for job in jobs:
        if job["status"] == "doing":
            item = store.item(job["item_id"])
            holder = item.claimed_by or f"procrastinate worker {job['worker_id']}"
            lines.append(f"    item {item.id} {item.reference}: held by {holder}")
    return lines


@click.group("items")
def items_group() -> None:
    """Work items: one renewal of one engagement."""


@items_group.command("retry")
@click.argument("item_id", type=int)
@click.option(
    "--note",
    default=None,
    help="What was fixed, for the item's history (needed for an item that failed on its "
    "data, as on the web pages).",
)
@click.pass_obj
def items_retry(settings: Settings, item_id: int, note: str | None) -> None:
    """Send a failed item back to the start; the engagement's next run works it again."""
    with _store(settings) as store:
        try:
            failed = store.item(item_id)
        except UnknownRecord as exc:
            raise click.ClickException(str(exc)) from None
        if failed.failure_kind is FailureKind.BUSINESS and not (note or "").strip():
            raise click.ClickException(
                f"item {item_id} failed on its data ({in_words(failed.failure_code)}): say "
                'what was fixed with --note "..." before retrying'
            )
        try:
            item = store.transition(
                item_id, ItemState.NEW, reason=(note or "").strip() or "retried by operations"
            )
        except UnknownRecord as exc:
            raise click.ClickException(str(exc)) from None
        except InvalidTransition:
            current = store.item(item_id)
            raise click.ClickException(
                f"item {item_id} is {current.state.value}: only failed items can be retried"
            ) from None
    click.echo(
        f"item {item.id} {item.reference} is new again: the next run of "
        f"{item.engagement} works it (or `quotebot run {item.engagement}` now)"
    )
