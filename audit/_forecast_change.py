"""The smallest change that saves the renewals at risk: more browsers (up to the portal's
session cap), extra quoting runs, or a window that opens earlier, each checked by
forecasting again with it applied."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from schemas.forecast import Renewal

if TYPE_CHECKING:
    from audit.forecast import Plan

WINDOW_STEPS_DAYS = (7, 14, 21, 28, 42, 56, 84)
"""How much earlier a window may be opened, smallest first."""
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Change:
    """One change to an engagement's plan, and what forecasting with it showed."""

    kind: str
    """`workers`, `extra_runs`, `earlier_window`, or `workers+extra_runs`."""
    words: str
    workers: int
    days_to: int
    extra_runs: tuple[datetime, ...]
    extra_browser_hours: float
    """What it costs: browser-hours added over the horizon (none for an earlier window)."""
    saves: int = 0
    of: int = 0
    still_missing: tuple[str, ...] = ()
    """Opportunity ids of the renewals that miss their line all the same."""
    beyond_saving: tuple[str, ...] = ()
    """Those that no change tried saves (their line comes before enough runs can reach them)."""

    @property
    def saves_all(self) -> bool:
        """It saves every renewal any change could save, and makes no other miss."""
        return set(self.still_missing) <= set(self.beyond_saving)


Missing = Callable[["Plan", Sequence[Renewal]], list[Renewal]]


def smallest_change(
    plan: Plan, renewals: Sequence[Renewal], missed: Sequence[Renewal], missing: Missing
) -> Change | None:
    """The cheapest change (fewest browser-hours added; an earlier window adds none) after
    which no renewal misses its line but those beyond saving; if none does, the one that
    saves most of `missed`. None when nothing can save any of them."""
    target = {r.opportunity_id for r in missed}
    candidates = sorted(_candidates(plan), key=lambda c: c.extra_browser_hours)
    everything = replace(
        candidates[-1] if candidates else _change(plan, "", ""),
        days_to=min(730, plan.days_to + WINDOW_STEPS_DAYS[-1]),
    )
    beyond = tuple(
        sorted(r.opportunity_id for r in missing(with_change(plan, everything), renewals))
    )
    best: Change | None = None
    for candidate in candidates:
        left = {r.opportunity_id for r in missing(with_change(plan, candidate), renewals)}
        checked = replace(
            candidate,
            saves=len(target - left),
            of=len(target),
            still_missing=tuple(sorted(left)),
            beyond_saving=beyond,
        )
        if checked.saves_all:
            return checked
        if checked.saves and (best is None or checked.saves > best.saves):
            best = checked
    return best


def with_change(plan: Plan, change: Change) -> Plan:
    """The plan with a change applied (what the forecast checked it with)."""
    return replace(
        plan,
        workers=change.workers,
        days_to=change.days_to,
        runs=tuple(sorted(plan.runs + change.extra_runs)),
    )


def _change(plan: Plan, kind: str, words: str, **what: object) -> Change:
    base: dict[str, object] = {
        "workers": plan.workers,
        "days_to": plan.days_to,
        "extra_runs": (),
        "extra_browser_hours": 0.0,
    }
    base.update(what)
    return Change(kind, words, **base)  # type: ignore[arg-type]


def _more(workers: int, plan: Plan) -> str:
    more = workers - plan.workers
    return (
        f"{more} more browser{'s' if more > 1 else ''} per quoting run ({workers} in all;"
        f" the most the portal allows is {plan.max_workers})"
    )


def _runs(count: int, when: str) -> str:
    return f"{count} more quoting run{'s' if count > 1 else ''} a week ({when})"


def _candidates(plan: Plan) -> Iterator[Change]:
    """Every change tried: each kind alone, then more browsers with extra runs; the last is
    the most of both."""
    hours, runs = plan.run_hours, len(plan.runs)
    for days in WINDOW_STEPS_DAYS:
        if plan.days_to + days <= 730:
            yield _change(
                plan,
                "earlier_window",
                f"open the quoting window {days} days earlier (renewals ending up to"
                f" {plan.days_to + days} days ahead, not {plan.days_to})",
                days_to=plan.days_to + days,
            )
    extra = list(enumerate(_extra_runs(plan), start=1))
    for workers in range(plan.workers, plan.max_workers + 1):
        if workers > plan.workers:
            more = workers - plan.workers
            yield _change(
                plan,
                "workers",
                _more(workers, plan),
                workers=workers,
                extra_browser_hours=more * hours * runs,
            )
        for count, (added, when) in extra:
            both = workers > plan.workers
            yield _change(
                plan,
                "workers+extra_runs" if both else "extra_runs",
                f"{_more(workers, plan)} and {_runs(count, when)}" if both else _runs(count, when),
                workers=workers,
                extra_runs=added,
                extra_browser_hours=(workers - plan.workers) * hours * runs
                + len(added) * workers * hours,
            )


def _extra_runs(plan: Plan) -> Iterator[tuple[tuple[datetime, ...], str]]:
    """1, 2, ... more runs a week: first on the days the schedule leaves free, at its usual
    time, then a second run on its days, starting as the first may end."""
    first = plan.runs[0] if plan.runs else plan.start.replace(hour=6, minute=0, second=0)
    busy = {moment.weekday() for moment in plan.runs}
    slots = [(day, timedelta(0)) for day in range(7) if day not in busy]
    slots += [(day, timedelta(hours=plan.run_hours)) for day in sorted(busy)]
    days = [plan.today + timedelta(days=n) for n in range(plan.weeks * 7)]
    for count in range(1, len(slots) + 1):
        chosen = slots[:count]
        runs = tuple(
            moment
            for day in days
            for weekday, later in chosen
            if day.weekday() == weekday and (moment := _at(day, first) + later) >= plan.start
        )
        words = ", ".join(
            f"{_DAY_NAMES[weekday]} {(_at(plan.today, first) + later):%H:%M}"
            for weekday, later in chosen
        )
        yield runs, words


def _at(day: date, first: datetime) -> datetime:
    return datetime.combine(day, first.time(), tzinfo=first.tzinfo)
