"""Before the 120-day line: which renewals the schedule will quote in time, which it will
miss, how sure that is, and the smallest change that saves them.

Pure: the calendar (`schemas.forecast.Renewal`), a `Plan` (the quoting runs over the
horizon, how long each may last, the browsers) and the measured throughput (quotes per
browser-hour of recent runs) in; a `Forecast` out.

How it is computed. A run at `rate` quotes per browser-hour quotes, soonest line first as
the claims take them, up to `browsers x floor(rate x run_hours)` of the renewals whose
window has opened (an item is finished inside the run that starts it). The P50 forecast
("likely") gives every run the measured runs' mean of that (fractions carried from run to
run): it names the renewals that miss the line. The P80 band ("4 times in 5 between") is
the 10th to 90th percentile over `DRAWS` forecasts, each drawn in two steps (a bootstrap):
first the measured runs are resampled with replacement (what the history might as well
have been: a mean from a dozen runs is itself uncertain), then every run of the horizon
gets a rate drawn from that resample. A run that entered nothing while work waited counts
as a measured zero (`Store.run_throughput`). Seeded, so the same inputs give the same band.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from heapq import heappop, heappush
from typing import TypeVar

from audit._forecast_change import Change, smallest_change, with_change
from audit.schedule import fire_times
from schemas.engagement import Engagement
from schemas.forecast import Renewal, RunThroughput

__all__ = [
    "AtRisk",
    "Change",
    "Forecast",
    "NoThroughput",
    "Plan",
    "Week",
    "engagement_forecast",
    "forecast",
    "plan_for",
    "rates_of",
    "with_change",
]

N = TypeVar("N", int, Decimal)

MAX_WORKERS = 16
"""The most browsers an engagement may have (`Engagement.workers`)."""
DRAWS = 200
"""Forecasts drawn for the band: its 10th and 90th percentiles move by about a renewal
between seeds at this many."""


class NoThroughput(ValueError):
    """Raised when an engagement has no measured quoting run yet to forecast from."""

    def __init__(self, engagement: str) -> None:
        super().__init__(
            f"engagement '{engagement}' has no finished quoting run that had work to do yet:"
            " the forecast needs its measured throughput (run it first)"
        )


@dataclass(frozen=True)
class Plan:
    """An engagement's quoting capacity over the forecast's horizon."""

    engagement: str
    start: datetime
    weeks: int
    runs: tuple[datetime, ...]
    """The quoting runs' start times, from `start` to the horizon's end."""
    run_hours: float
    workers: int
    """Browsers per run (already capped by the portal's session cap)."""
    days_to: int
    """A renewal's window opens this many days before its contract ends."""
    rates: tuple[float, ...]
    """Measured quotes per browser-hour, one per recent run."""
    max_workers: int = 16
    """The most browsers the engagement may have (its portal's session cap)."""

    @property
    def today(self) -> date:
        return self.start.date()

    @property
    def end(self) -> date:
        return self.today + timedelta(weeks=self.weeks)

    def capacity(self, rate: float) -> int:
        """Quotes one run finishes at `rate` quotes per browser-hour."""
        return self.workers * math.floor(rate * self.run_hours + 1e-9)

    @property
    def per_run(self) -> float:
        """Quotes a run finishes on average at the measured rates."""
        return statistics.fmean(self.capacity(rate) for rate in self.rates)

    def typical(self) -> list[int]:
        """Every run's quotes at the mean: `per_run` each, fractions carried over."""
        mean = self.per_run
        return [
            math.floor((k + 1) * mean + 1e-9) - math.floor(k * mean + 1e-9)
            for k in range(len(self.runs))
        ]


@dataclass(frozen=True)
class AtRisk:
    """A renewal that misses its line: named, with its account and annual value."""

    renewal: Renewal
    quoted_on: date | None
    """When the forecast has it quoted (after its line), or None: not in the horizon."""
    chance: float
    """Share of the drawn forecasts in which it misses the line."""


Band = tuple[int, int]


@dataclass(frozen=True)
class Week:
    """One week of the horizon: windows opening, quotes in time, lines missed."""

    start: date
    opening: int
    quoted_in_time: int
    quoted_band: Band
    missing: int
    missing_band: Band
    money_missing: dict[str, Decimal]


@dataclass(frozen=True)
class Forecast:
    engagement: str
    today: date
    weeks: tuple[Week, ...]
    at_risk: tuple[AtRisk, ...]
    """Renewals that will miss the line (P50), soonest line first."""
    late: tuple[Renewal, ...]
    """Renewals already past their line, not quoted: marked late, not hidden."""
    missing_band: Band
    money_at_risk: dict[str, Decimal]
    """The annual value of `at_risk`, per currency."""
    money_band: dict[str, tuple[Decimal, Decimal]]
    unvalued: int
    """Renewals at risk whose annual value is not known yet (not counted in the money)."""
    per_run: float
    """Quotes a run finishes at the measured throughput (mean)."""
    runs: int
    change: Change | None = None
    extra: dict[str, object] = field(default_factory=dict)


def plan_for(engagement: Engagement, rates: Sequence[float], start: datetime, weeks: int) -> Plan:
    """An engagement's plan from its engagements-file entry: its quoting schedule's runs from
    `start` for `weeks`, its run length, browsers, session cap and window."""
    end = start + timedelta(weeks=weeks)
    cron = engagement.schedules.quote
    runs = fire_times(cron, engagement.timezone, start, end) if cron else []
    cap = min(engagement.max_sessions or MAX_WORKERS, MAX_WORKERS)
    return Plan(
        engagement=engagement.name,
        start=start,
        weeks=weeks,
        runs=tuple(runs),
        run_hours=engagement.forecast.run_hours,
        workers=min(engagement.workers, cap),
        days_to=engagement.window.days_to,
        rates=tuple(rates),
        max_workers=cap,
    )


def rates_of(runs: Iterable[RunThroughput], workers: int) -> tuple[float, ...]:
    """Quotes per browser-hour of each measured run: its quotes entered over the time from its
    start to its last move, per browser (a run that ran out of work is not counted idle; one
    that entered nothing while work waited is a measured zero)."""
    rates = []
    for run in runs:
        hours = (run.busy_until - run.started_at).total_seconds() / 3600
        if hours > 0:
            rates.append(run.entered / (hours * workers))
        elif not run.entered:
            rates.append(0.0)
    return tuple(rates)


def drawn_capacities(plan: Plan, rng: random.Random) -> list[int]:
    """One drawn future of the plan's runs: the measured rates resampled (the history as it
    might as well have been), then each run's rate drawn from that resample."""
    history = [rng.choice(plan.rates) for _ in plan.rates]
    return [plan.capacity(rng.choice(history)) for _ in plan.runs]


def simulate(plan: Plan, pending: Sequence[Renewal], capacities: Sequence[int]) -> dict[str, date]:
    """The day each renewal gets quoted when the plan's runs quote `capacities` each (soonest
    line first among those whose window has opened), by opportunity id."""
    opens = timedelta(days=plan.days_to)
    by_open = sorted(pending, key=lambda r: (r.contract_end - opens, r.contract_end))
    waiting: list[tuple[date, str]] = []
    quoted: dict[str, date] = {}
    next_up = 0
    for moment, capacity in zip(plan.runs, capacities, strict=True):
        day = moment.date()
        while next_up < len(by_open) and by_open[next_up].contract_end - opens <= day:
            renewal = by_open[next_up]
            heappush(waiting, (renewal.contract_end, renewal.opportunity_id))
            next_up += 1
        for _ in range(min(capacity, len(waiting))):
            quoted[heappop(waiting)[1]] = day
    return quoted


def _missed(judged: Iterable[Renewal], quoted: dict[str, date]) -> list[Renewal]:
    return [r for r in judged if (d := quoted.get(r.opportunity_id)) is None or d > r.line]


def _pending(renewals: Iterable[Renewal]) -> tuple[list[Renewal], list[Renewal]]:
    """The renewals not quoted yet: all of them (judged), and those the runs can take (a
    renewal waiting for a person takes no run's time and misses unless they act)."""
    waiting = [r for r in renewals if r.quoted_on is None]
    return waiting, [r for r in waiting if not r.needs_person]


def missing_with(plan: Plan, renewals: Sequence[Renewal]) -> list[Renewal]:
    """The renewals (whose line is in the horizon) the plan misses at its mean throughput."""
    waiting, pending = _pending(renewals)
    quoted = simulate(plan, pending, plan.typical())
    return _missed(_judged(plan, waiting), quoted)


def _judged(plan: Plan, pending: Iterable[Renewal]) -> list[Renewal]:
    return [r for r in pending if plan.today <= r.line < plan.end]


def forecast(plan: Plan, renewals: Sequence[Renewal], *, seed: int = 0) -> Forecast:
    """Week by week from the plan's start: windows opening, quotes in time, lines missed (P50
    and P80 band), the renewals at risk by name, and the smallest change that saves them."""
    if not plan.rates:
        raise NoThroughput(plan.engagement)
    waiting, pending = _pending(renewals)
    judged = _judged(plan, waiting)
    p50 = simulate(plan, pending, plan.typical())
    missed = _missed(judged, p50)
    rng = random.Random(seed)
    draws = [simulate(plan, pending, drawn_capacities(plan, rng)) for _ in range(DRAWS)]
    misses_per_draw = [{r.opportunity_id for r in _missed(judged, d)} for d in draws]
    at_risk = tuple(
        AtRisk(
            r,
            p50.get(r.opportunity_id),
            sum(r.opportunity_id in m for m in misses_per_draw) / DRAWS,
        )
        for r in sorted(missed, key=lambda r: (r.contract_end, r.opportunity_id))
    )
    money_draws = [_money(r for r in judged if r.opportunity_id in m) for m in misses_per_draw]
    currencies = sorted({c for m in money_draws for c in m} | set(_money(missed)))
    return Forecast(
        engagement=plan.engagement,
        today=plan.today,
        weeks=tuple(_weeks(plan, waiting, judged, p50, draws)),
        at_risk=at_risk,
        late=tuple(sorted((r for r in waiting if r.line < plan.today), key=lambda r: r.line)),
        missing_band=_band([len(m) for m in misses_per_draw]),
        money_at_risk=_money(missed),
        money_band={c: _band([m.get(c, Decimal(0)) for m in money_draws]) for c in currencies},
        unvalued=sum(r.annual_value is None for r in missed),
        per_run=plan.per_run,
        runs=len(plan.runs),
        change=smallest_change(plan, renewals, missed, missing_with) if missed else None,
    )


def _weeks(
    plan: Plan,
    pending: list[Renewal],
    judged: list[Renewal],
    p50: dict[str, date],
    draws: list[dict[str, date]],
) -> list[Week]:
    def week_of(day: date) -> int:
        return (day - plan.today).days // 7

    def in_time(quoted: dict[str, date]) -> list[int]:
        counts = [0] * plan.weeks
        for r in pending:
            day = quoted.get(r.opportunity_id)
            if day is not None and day <= r.line and 0 <= week_of(day) < plan.weeks:
                counts[week_of(day)] += 1
        return counts

    def missing(quoted: dict[str, date]) -> list[list[Renewal]]:
        weeks: list[list[Renewal]] = [[] for _ in range(plan.weeks)]
        for r in _missed(judged, quoted):
            weeks[week_of(r.line)].append(r)
        return weeks

    opening = [0] * plan.weeks
    for r in pending:
        opens = week_of(r.contract_end - timedelta(days=plan.days_to))
        if 0 <= opens < plan.weeks:
            opening[opens] += 1
    drawn_in_time = [in_time(d) for d in draws]
    drawn_missing = [[len(w) for w in missing(d)] for d in draws]
    p50_in_time, p50_missing = in_time(p50), missing(p50)
    return [
        Week(
            start=plan.today + timedelta(weeks=k),
            opening=opening[k],
            quoted_in_time=p50_in_time[k],
            quoted_band=_band([d[k] for d in drawn_in_time]),
            missing=len(p50_missing[k]),
            missing_band=_band([d[k] for d in drawn_missing]),
            money_missing=_money(p50_missing[k]),
        )
        for k in range(plan.weeks)
    ]


def _band(values: Sequence[N]) -> tuple[N, N]:
    """The 10th and 90th percentiles (nearest rank): where 80 % of the draws fall."""
    ordered = sorted(values)
    return ordered[round(0.1 * (len(ordered) - 1))], ordered[round(0.9 * (len(ordered) - 1))]


def _money(renewals: Iterable[Renewal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for r in renewals:
        if r.annual_value is not None and r.currency:
            totals[r.currency] += r.annual_value
    return dict(sorted(totals.items()))


def engagement_forecast(
    engagement: Engagement,
    renewals: Sequence[Renewal],
    runs: Iterable[RunThroughput],
    start: datetime,
    weeks: int,
) -> Forecast:
    """The forecast of an engagement from its calendar and its measured runs (what the
    command, the dashboard and the report show)."""
    rates = rates_of(runs, engagement.workers)
    return forecast(plan_for(engagement, rates, start, weeks), renewals)
