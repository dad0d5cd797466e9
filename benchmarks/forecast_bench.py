"""Benchmark: how good the forecast is, back-tested on a simulated quarter (issue 27).

    .venv/bin/python benchmarks/forecast_bench.py [--days 91] [--opportunities 400]
        [--run-seconds 40] [--schedule "0 6 * * tue,thu"] [--horizon-days 14]
        [--error-rate 0.05] [--latency 30-150] [--seed 7]

How it is computed:

1. A sandbox acme portal with faults on (503s on `--error-rate` of requests, every request
   delayed uniformly in `--latency` ms). Its renewals end over a year that starts 120 days
   after the quarter's first day, so day one is a steady state (no renewal is past its
   line yet), and each brings its annual value (its install base's prior prices).
2. The simulated quarter: the portal's business date is advanced day by day. On each day
   the schedule (`--schedule`, the engagement's quoting cron) fires, one real quoting run
   works the portal as of that day (Chromium, log-in, discovery of the 150-day window,
   pricing, entry, read-back, audit), stopped after `--run-seconds` (a run's allowed
   length, scaled down from hours; it then finishes the items in hand). Throughput varies
   as it does in the field: 503s and retries, latency, a loaded machine, bad data.
3. Every weekday, before that day's run and once three runs are measured, the forecast
   (`audit.forecast`) is made from what the store holds then: the last 20 measured runs
   (`Store.run_throughput`: a run that entered nothing while renewals waited is a measured
   zero), the calendar (which renewals are quoted, on which simulated day, which wait for a
   person), the schedule. A run's rate is its quotes per allowed hour (a bench run stops at
   its allowed length, so its busy time is that length). Horizon k = `--horizon-days`
   (whole weeks): it forecasts how many of the renewals whose 120-day line falls in
   [d, d + k) and are not quoted by day d will miss it (P50 named, P80 band of the count
   and of the money).
4. After the quarter, each forecast whose horizon ended inside it is compared with what
   happened: its renewals not quoted on or before their line.

Printed as it goes: each day's run (quotes entered) and forecast, with the elapsed time
and the machine's load. At the end, per forecast, P50, P80 band and actual; then, for
renewals and for money per currency: the P50's mean absolute error and bias, beside the
baseline "none will miss" forecast's error; the calibration: the share of forecasts whose
actual lies inside the P80 band (goal 75-85 %), over all forecasts and over those whose
band had some width (a band of no width around a certain outcome says little); and the
bands' widths. Asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time as clock
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import click
from loguru import logger

from audit.forecast import Forecast, forecast, plan_for
from audit.schedule import fire_times
from bots import RunOptions, RunResult, run_engagement
from sandbox.config import FaultConfig, SandboxConfig
from sandbox.generate import generate, load_credentials
from sandbox.server import SandboxServer
from schemas.engagement import Engagement
from schemas.forecast import Renewal
from schemas.settings import Settings
from store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
START = date(2026, 3, 2)  # a Monday
STEADY = timedelta(days=120)
"""The year of contract ends starts this long after the quarter: no line passed on day one."""
HISTORY = 20
"""Measured runs the forecast reads (the most recent)."""


@dataclass
class Made:
    """One forecast made on `day`, and what then happened in its horizon."""

    day: date
    result: Forecast
    actual: set[str] | None = None
    actual_money: Decimal = Decimal(0)


def _calendar(server: SandboxServer, engagement: str) -> list[Renewal]:
    """Every renewal of the portal, with its annual value (the read-ahead's stand-in: the
    portal's own records, read once)."""
    renewals = []
    page = server.portal.list_opportunities(per_page=200)
    summaries = list(page.items)
    n = 2
    while len(summaries) < page.total:
        summaries += server.portal.list_opportunities(per_page=200, page=n).items
        n += 1
    for summary in summaries:
        opp = server.portal.get_opportunity(summary.opportunity_id)
        if opp.contract_end is None:
            continue
        value = sum(
            (
                (line.prior_unit_price or Decimal(0)) * line.quantity
                for line in opp.lines
                if line.renew
            ),
            Decimal(0),
        )
        renewals.append(
            Renewal(
                engagement=engagement,
                opportunity_id=opp.opportunity_id,
                account_name=opp.account_name,
                contract_end=opp.contract_end,
                annual_value=value,
                currency=opp.currency,
            )
        )
    return renewals


def _as_of(
    store: Store, engagement: str, calendar: list[Renewal], run_day: dict[int, date]
) -> list[Renewal]:
    """The calendar as the store knows it now: the simulated day each renewal was first
    entered (from its events' run), and which wait for a person (bad data)."""
    entered: dict[str, date] = {}
    blocked: set[str] = set()
    items = {item.id: item for item in store.items(engagement)}
    for item in items.values():
        if item.failure_kind is not None and item.failure_kind.value == "business":
            blocked.add(item.opportunity_id)
    for event in store.events(engagement=engagement):
        if event.to_state.value == "entered" and event.run_id in run_day:
            opportunity = items[event.item_id].opportunity_id
            day = run_day[event.run_id]
            entered[opportunity] = min(day, entered.get(opportunity, day))
    return [
        r.model_copy(
            update={
                "quoted_on": entered.get(r.opportunity_id),
                "needs_person": r.opportunity_id in blocked,
            }
        )
        for r in calendar
    ]


def _money(renewals: list[Renewal], ids: set[str]) -> Decimal:
    return sum(
        (r.annual_value or Decimal(0) for r in renewals if r.opportunity_id in ids), Decimal(0)
    )


@click.command()
@click.option("--days", default=91, show_default=True, help="Length of the simulated quarter.")
@click.option("--opportunities", default=400, show_default=True, help="Renewals over a year.")
@click.option("--run-seconds", default=40.0, show_default=True, help="Each run's allowed length.")
@click.option("--schedule", default="0 6 * * tue,thu", show_default=True, help="Quoting cron.")
@click.option("--horizon-days", default=14, show_default=True, help="k: each forecast's horizon.")
@click.option("--error-rate", default=0.05, show_default=True)
@click.option("--latency", default="30-150", show_default=True, help="ms, low-high.")
@click.option("--seed", default=7, show_default=True)
def main(
    days: int,
    opportunities: int,
    run_seconds: float,
    schedule: str,
    horizon_days: int,
    error_rate: float,
    latency: str,
    seed: int,
) -> None:
    logger.remove()
    began = clock.monotonic()
    low, high = (int(x) for x in latency.split("-"))
    folder = Path(tempfile.mkdtemp(prefix="forecast_bench_"))
    generate(folder / "portal", seed, opportunities, START + STEADY, client="acme")
    config = SandboxConfig(
        flavour="acme",
        data_dir=folder / "portal",
        seed=seed,
        today=START,
        faults=FaultConfig(latency_ms=(low, high), error_rate=error_rate, seed=seed),
    )
    weeks = max(1, horizon_days // 7)
    quarter = datetime.combine(START, time(0), tzinfo=UTC)
    run_days = {t.date() for t in fire_times(schedule, "UTC", quarter, quarter + timedelta(days))}
    click.echo(
        f"back-test: {days} days from {START}, {len(run_days)} runs ({schedule}) of"
        f" {run_seconds:g} s, {opportunities} renewals a year, faults {error_rate:.0%} 503s and"
        f" {latency} ms latency, horizon {weeks} weeks; load {_load()}"
    )
    server = SandboxServer(config)
    with server as url:
        creds = load_credentials(folder / "portal")
        os.environ["QB_BENCH_USER"], os.environ["QB_BENCH_PASSWORD"] = (
            creds.username,
            creds.password,
        )
        engagement = Engagement(
            name="acme",
            flavour="acme",
            url=url,
            username_env="QB_BENCH_USER",
            password_env="QB_BENCH_PASSWORD",
            selectors=REPO / "selectors" / "acme.yaml",
            rules=config.rules_path,
            window={"days_from": 0, "days_to": 150},
            schedules={"quote": schedule},
            timezone="UTC",
            workers=1,
            forecast={"run_hours": run_seconds / 3600, "read_ahead_days": 150},
        )
        calendar = _calendar(server, "acme")
        store = open_store(f"sqlite:///{folder / 'quotebot.sqlite'}")
        settings = Settings(home=folder / "home")
        run_day: dict[int, date] = {}
        made: list[Made] = []
        for n in range(days):
            day = START + timedelta(days=n)
            server.portal.today = day  # the portal's business date, advanced
            shown = f"{clock.monotonic() - began:6.0f} s  load {_load()}  {day} {day:%a}"
            runs = store.run_throughput("acme", last=HISTORY) if run_day else []
            if day.weekday() < 5 and len(runs) >= 3 and n + 7 * weeks <= days:
                now = _as_of(store, "acme", calendar, run_day)
                start = datetime.combine(day, time(0), tzinfo=UTC)
                # A bench run is stopped after its allowed length and then finishes the
                # items in hand: its quotes per allowed hour are the measured rate.
                rates = tuple(r.entered / (run_seconds / 3600) for r in runs)
                plan = plan_for(engagement, rates, start, weeks)
                made.append(Made(day, forecast(plan, now, seed=n)))
                low_n, high_n = made[-1].result.missing_band
                shown += (
                    f"  forecast: {len(made[-1].result.at_risk)} will miss (P80 {low_n}-{high_n})"
                )
            if day in run_days:
                result = _run(engagement, store, settings, day, run_seconds)
                run_day[result.run.id] = day
                entered = sum(r.entered for r in store.run_throughput("acme", last=1))
                shown += f"  run {result.run.id}: {entered} entered {_counts(result.counts)}"
            click.echo(shown)
        final = _as_of(store, "acme", calendar, run_day)
        measured = store.run_throughput("acme", last=len(run_day))
        store.close()
    click.echo("")
    _report(made, final, weeks)
    per_run = [r.entered for r in measured]
    click.echo(
        f"runs: {len(per_run)} measured, quotes entered per run median"
        f" {statistics.median(per_run):g}, range {min(per_run)}-{max(per_run)};"
        f" took {clock.monotonic() - began:.0f} s; load {_load()}"
    )


def _run(
    engagement: Engagement, store: Store, settings: Settings, day: date, seconds: float
) -> RunResult:
    """One scheduled quoting run on `day`, stopped after its allowed length."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    try:
        return run_engagement(
            engagement,
            "quote",
            store,
            settings=settings,
            options=RunOptions(today=day, progress=False, stop=stop),
        )
    finally:
        timer.cancel()


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted((str(k), v) for k, v in counts.items()))


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _report(made: list[Made], final: list[Renewal], weeks: int) -> None:
    """Each forecast beside what happened (its horizon's lines have all passed), then the
    errors, the calibration and the bands' widths over them."""
    counts: list[Row] = []
    money: dict[str, list[Row]] = {}
    for m in made:
        end = m.day + timedelta(weeks=weeks)
        # Quoted before the forecast was made: not in its judged set (it forecasts the rest).
        judged = [
            r
            for r in final
            if m.day <= r.line < end and (r.quoted_on is None or r.quoted_on >= m.day)
        ]
        actual = {r.opportunity_id for r in judged if r.quoted_on is None or r.quoted_on > r.line}
        m.actual = actual
        named = {a.renewal.opportunity_id for a in m.result.at_risk}
        low, high = m.result.missing_band
        counts.append((Decimal(len(named)), Decimal(low), Decimal(high), Decimal(len(actual))))
        shown = []
        for currency in sorted({r.currency or "" for r in judged}):
            real = _money([r for r in judged if r.currency == currency], actual)
            p50 = m.result.money_at_risk.get(currency, Decimal(0))
            m_low, m_high = m.result.money_band.get(currency, (Decimal(0), Decimal(0)))
            money.setdefault(currency, []).append((p50, m_low, m_high, real))
            shown.append(
                f"{currency} P50 {p50:,.0f} (P80 {m_low:,.0f}-{m_high:,.0f}) actual {real:,.0f}"
            )
        click.echo(
            f"forecast {m.day}: of {len(judged)} lines, missing P50 {len(named)}"
            f" (P80 {low}-{high}) actual {len(actual)} [named right {len(named & actual)},"
            f" wrongly {len(named - actual)}, unnamed {len(actual - named)}]; " + "; ".join(shown)
        )
    if not counts:
        click.echo("no forecast had its horizon inside the quarter: lengthen --days")
        return
    click.echo(f"\n{len(counts)} forecasts, each over the next {weeks} weeks' lines")
    _summary("renewals", counts)
    for currency, rows in money.items():
        _summary(f"money {currency}", rows)


Row = tuple[Decimal, Decimal, Decimal, Decimal]
"""One forecast: P50, P80 low, P80 high, actual."""


def _summary(what: str, rows: list[Row]) -> None:
    """Mean absolute error and bias of the P50, the baseline "none will miss" forecast's
    error, the share of actuals inside the P80 band (all bands, bands with width), and the
    bands' widths."""
    n = len(rows)
    mae = sum((abs(p50 - real) for p50, _, _, real in rows), Decimal(0)) / n
    bias = sum((p50 - real for p50, _, _, real in rows), Decimal(0)) / n
    baseline = sum((real for *_, real in rows), Decimal(0)) / n
    inside = sum(low <= real <= high for _, low, high, real in rows)
    wide = [(low, high, real) for _, low, high, real in rows if high > low]
    inside_wide = sum(low <= real <= high for low, high, real in wide)
    below = sum(real < low for _, low, _, real in rows)
    above = sum(real > high for _, _, high, real in rows)
    widths = sorted(high - low for _, low, high, _ in rows)
    click.echo(
        f"{what}: P50 mean absolute error {mae:,.2f} (bias {bias:+,.2f}); baseline 'none will"
        f" miss' {baseline:,.2f}\n  calibration: actual inside the P80 band in {inside} of {n}"
        f" forecasts = {inside / n:.0%} (goal 75-85 %; below it {below}, above it {above});"
        f" bands with width: {inside_wide} of {len(wide)}"
        + (f" = {inside_wide / len(wide):.0%}" if wide else "")
        + f"\n  band width: median {statistics.median(widths):,.0f}, range"
        f" {widths[0]:,.0f}-{widths[-1]:,.0f}, no width in {n - len(wide)} of {n}"
    )


if __name__ == "__main__":
    main()
