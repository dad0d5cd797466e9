"""The alert rules: each reads one part of the store's state and says, in a sentence, what
is wrong now. Nothing here is told by a bot: a cause is found even when the process that
failed is gone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.alerts import INHIBITED, INHIBITING, Alert, AlertRule, AlertState, Cause
from schemas.settings import Settings
from schemas.work import Run, RunKind, RunStatus
from store import Store

STREAK_WINDOW = timedelta(hours=24)
"""How far back the portal-down rule reads the engagements' history: an outage is over
when an item is saved or a later run finishes, not when its errors age (no run may try the
portal for hours)."""
SCHEDULE_GRACE = timedelta(seconds=900)
"""A schedule's fire time later than this is missed (the scheduler's own misfire grace)."""
_NOT_ITEMS = frozenset({"retry", "refused", "drift", "left_open"})
"""Run counts that are not items ended."""
KIND_WORDS = {RunKind.QUOTE: "quoting", RunKind.BOOKING: "booking"}


@dataclass(frozen=True)
class Findings:
    """One evaluation: the causes found, and the keys held back by a broader cause."""

    causes: list[Cause]
    held: set[str]


def find(store: Store, settings: Settings, now: datetime) -> Findings:
    """Every cause found in the store now; an engagement whose portal is down or refuses
    the bot user has its per-run alerts held back."""
    causes = {c.key: c for c in _all(store, settings, now)}
    broad = {c.engagement for c in causes.values() if c.rule in INHIBITING}
    held = {k for k, c in causes.items() if c.rule in INHIBITED and c.engagement in broad}
    open_now: list[Alert] = store.alerts(since=now)
    held |= {
        a.key
        for a in open_now
        if a.state is AlertState.OPEN and a.rule in INHIBITED and a.engagement in broad
    }
    return Findings(list(causes.values()), held)


def _all(store: Store, settings: Settings, now: datetime) -> Iterator[Cause]:
    latest = store.latest_finished_runs()
    yield from _stopped_runs(latest)
    yield from _drift(store, latest)
    yield from _system_errors(latest, settings.alerts.system_error_share)
    yield from _portal_down(store, latest, now, settings.alerts.portal_down_after_s)
    yield from _workers(store, now, settings.fleet_timings.stalled_after_s)
    yield from _missed_schedules(store, now)


def _when(at: datetime) -> str:
    return at.strftime("%d %b %Y at %H:%M UTC")


def _by_drift(run: Run) -> bool:
    """Whether a run stopped because the portal's pages no longer match the map: the
    one place that reads it from the run's recorded reason (`bots.SelectorDrift`)."""
    return (run.error or "").startswith("selector drift")


def _last_per_engagement(runs: list[Run]) -> dict[str, Run]:
    last: dict[str, Run] = {}
    for run in runs:  # oldest first
        last[run.engagement] = run
    return last


def _stopped_runs(latest: list[Run]) -> Iterator[Cause]:
    """The engagement's last run stopped (a refused login or second factor, credentials
    missing, its process gone); its next run that finishes clears it."""
    for name, run in _last_per_engagement(latest).items():
        if run.status is RunStatus.SUCCEEDED or _by_drift(run):
            continue
        at = run.finished_at or run.heartbeat_at
        why = run.error or "no reason was recorded"
        yield Cause(
            engagement=name,
            rule=AlertRule.RUN_STOPPED,
            summary=f"The {KIND_WORDS[run.kind]} run {run.id} of {name} stopped on "
            f"{_when(at)}: {why}.",
            link=f"/runs/{run.id}",
        )


def _drift(store: Store, latest: list[Run]) -> Iterator[Cause]:
    """The newest look at the engagement's pages (a run or the morning check) found a
    selector that matches nothing; a clean look clears it."""
    looks: dict[str, tuple[datetime, str | None, str]] = {}
    for name, run in _last_per_engagement(latest).items():
        at = run.finished_at or run.heartbeat_at
        looks[name] = (at, run.error if _by_drift(run) else None, f"/runs/{run.id}")
    for check in store.selector_checks():
        if check.error is not None:
            continue  # the check could not look: it says nothing of the pages
        if check.engagement not in looks or looks[check.engagement][0] < check.at:
            found = "; ".join(check.drifts) if check.drifts else None
            looks[check.engagement] = (check.at, found, "/schedule")
    tickets = {t.engagement: t.id for t in reversed(store.drift_tickets(status="open"))}
    for name, (at, drift, link) in sorted(looks.items()):
        if drift is not None:
            link = f"/repairs/{tickets[name]}" if name in tickets else link  # the evidence
            yield Cause(
                engagement=name,
                rule=AlertRule.SELECTOR_DRIFT,
                summary=f"The {name} portal's pages changed, found on {_when(at)}: {drift}. "
                "Its runs stop before anything is typed until the selector map is fixed "
                "(a repair waits for approval where the bot found where the element went).",
                link=link,
            )


def _system_errors(latest: list[Run], share: float) -> Iterator[Cause]:
    """The engagement's last run of a kind failed too many items by system errors."""
    for run in latest:
        ended = sum(n for k, n in run.counts.items() if k not in _NOT_ITEMS)
        failed = run.counts.get("failed", 0)
        if ended == 0 or failed / ended < share:
            continue
        yield Cause(
            engagement=run.engagement,
            rule=AlertRule.SYSTEM_ERRORS,
            subject=run.kind.value,
            summary=f"{failed} of {ended} items of the {KIND_WORDS[run.kind]} run {run.id} "
            f"of {run.engagement} failed by system errors (timeouts, portal errors), more "
            f"than {share:.0%}.",
            link=f"/runs/{run.id}",
        )


def _portal_down(store: Store, latest: list[Run], now: datetime, after_s: float) -> Iterator[Cause]:
    """Only system errors from the engagement's portal for `after_s` or longer; an item
    saved, or a run begun after the last error that logged in and finished, clears it."""
    for streak in store.error_streaks(now - STREAK_WINDOW):
        lasted = (streak.last_at - streak.first_at).total_seconds()
        if lasted < after_s or any(
            r.engagement == streak.engagement
            and r.status is RunStatus.SUCCEEDED
            and r.started_at > streak.last_at
            for r in latest
        ):
            continue
        minutes = max(1, round(lasted / 60))
        yield Cause(
            engagement=streak.engagement,
            rule=AlertRule.PORTAL_DOWN,
            summary=f"The {streak.engagement} portal has answered only with errors or "
            f"timeouts since {_when(streak.first_at)} ({streak.errors} in about {minutes} "
            "min, nothing saved since); its items wait.",
            link="/runs",
        )


def _workers(store: Store, now: datetime, stalled_after_s: float) -> Iterator[Cause]:
    """A fleet worker went silent holding items, until a worker starts again on its machine;
    or an engagement has jobs waiting and no live worker to take them."""
    workers = store.fleet_workers()
    alive = [w for w in workers if w.alive(now, stalled_after_s)]
    for worker in workers:
        if worker.alive(now, stalled_after_s) or not worker.in_hand:
            continue
        if any(w.host == worker.host and w.started_at > worker.heartbeat_at for w in alive):
            continue  # the machine's worker is back
        for engagement in sorted({i.engagement for i in worker.in_hand}):
            items = [i.opportunity_id for i in worker.in_hand if i.engagement == engagement]
            yield Cause(
                engagement=engagement,
                rule=AlertRule.WORKER_DEAD,
                subject=worker.name,
                summary=f"The fleet worker {worker.name} has been silent since "
                f"{_when(worker.heartbeat_at)} while it held {len(items)} item(s) of "
                f"{engagement} ({', '.join(items)}); they go back to the queue.",
                link="/runs",
            )
    names = {e.name for e in store.engagements()}  # not the alerts' own periodic job
    for engagement, waiting in sorted(store.jobs_waiting().items()):
        if (
            engagement in names
            and waiting
            and not any(not w.engagements or engagement in w.engagements for w in alive)
        ):
            yield Cause(
                engagement=engagement,
                rule=AlertRule.NO_WORKER,
                summary=f"{waiting} job(s) of {engagement} wait and no live fleet worker "
                "takes its work.",
                link="/runs",
            )


def _missed_schedules(store: Store, now: datetime) -> Iterator[Cause]:
    """A schedule's fire time passed beyond the grace time: no scheduler ran it."""
    for scheduled in store.scheduled_runs():
        due = scheduled.next_run
        if due is None or now - due <= SCHEDULE_GRACE:
            continue
        yield Cause(
            engagement=scheduled.engagement,
            rule=AlertRule.SCHEDULE_MISSED,
            subject=scheduled.kind.value,
            summary=f"The {KIND_WORDS[scheduled.kind]} run of {scheduled.engagement} due on "
            f"{_when(due)} has not started: no scheduler is running it.",
            link="/schedule",
        )
