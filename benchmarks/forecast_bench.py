"""Benchmark: how good the forecast is, back-tested on a simulated quarter (issue 27).

    .venv/bin/python benchmarks/forecast_bench.py [--days 91] [--opportunities 240]
        [--run-seconds 8] [--horizon-days 28] [--error-rate 0.05] [--latency 50-150]

How it is computed:

1. A sandbox acme portal (seeded renewals ending over the next year, with their install
   base's prior prices: the annual values) with faults on (503s, latency).
2. The simulated quarter: the portal's business date is advanced day by day. Every weekday
   (the schedule `0 6 * * mon-fri`) one real quoting run works the portal as of that day
   (discovery, Chromium, pricing, entry, read-back, audit), stopped after `--run-seconds`
   (the runs' allowed length, scaled down from hours) and finishing the items in hand.
3. Every weekday, before its run and once three runs are measured, the forecast is made
   from what the store holds then: the throughput of the runs so far (`run_throughput`),
   the calendar (every renewal of the portal with its value, and which are quoted, on
   which simulated day, or waiting for a person), the schedule. Its horizon is
   `--horizon-days` (k): it forecasts which renewals whose 120-day line falls in
   [d, d + k) will miss it (P50 named, and the P80 band of the count and the money).
   A bench run is stopped after `--run-seconds` and then finishes the items in hand, so
   the measured rate is each run's quotes per allowed hour (not per busy hour, which
   `Store.run_throughput` gives runs that end when their work does).
4. After the quarter, each forecast whose horizon ended inside it is compared with what
   happened: the renewals of its horizon not quoted on or before their line.

Printed: per forecast, the P50, P80 band and actual (renewals and money); then the mean
absolute error and bias of the P50 (renewals, money) and the calibration: the share of
forecasts whose actual count (and money) lies inside the P80 band (goal: 75-85 %), beside
the baseline "nothing will miss" forecast's error in the same run. Asserts nothing.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import click
from loguru import logger

from audit.forecast import Forecast, forecast, plan_for
from bots import RunOptions, run_engagement
from sandbox.config import FaultConfig, SandboxConfig
from sandbox.generate import generate, load_credentials
from sandbox.server import SandboxServer
from schemas.engagement import Engagement
from schemas.forecast import Renewal
from schemas.settings import Settings
from store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
START = date(2026, 3, 2)  # a Monday


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
@click.option("--opportunities", default=240, show_default=True)
@click.option("--run-seconds", default=8.0, show_default=True, help="Each run's allowed length.")
@click.option("--horizon-days", default=28, show_default=True, help="k: each forecast's horizon.")
@click.option("--error-rate", default=0.05, show_default=True)
@click.option("--latency", default="50-150", show_default=True, help="ms, low-high.")
@click.option("--seed", default=7, show_default=True)
def main(
    days: int,
    opportunities: int,
    run_seconds: float,
    horizon_days: int,
    error_rate: float,
    latency: str,
    seed: int,
) -> None:
    logger.remove()
    low, high = (int(x) for x in latency.split("-"))
    folder = Path(tempfile.mkdtemp(prefix="forecast_bench_"))
    generate(folder / "portal", seed, opportunities, START, client="acme")
    config = SandboxConfig(
        flavour="acme",
        data_dir=folder / "portal",
        seed=seed,
        today=START,
        faults=FaultConfig(latency_ms=(low, high), error_rate=error_rate, seed=seed),
    )
    weeks = max(1, horizon_days // 7)
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
            schedules={"quote": "0 6 * * mon-fri"},
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
            if day.weekday() >= 5:
                continue
            server.portal.today = day  # the portal's business date, advanced
            runs = store.run_throughput("acme", last=20) if run_day else []
            if len(runs) >= 3 and n + horizon_days <= days:
                now = _as_of(store, "acme", calendar, run_day)
                start = datetime.combine(day, time(0), tzinfo=UTC)
                # A bench run is stopped after its allowed length and then finishes the
                # items in hand: its quotes per allowed hour are the measured rate.
                rates = tuple(r.entered / (run_seconds / 3600) for r in runs[-20:])
                plan = plan_for(engagement, rates, start, weeks)
                made.append(Made(day, forecast(plan, now, seed=n)))
            due = [m for m in made if m.actual is None and m.day + timedelta(weeks=weeks) <= day]
            if due:
                _report(due, _as_of(store, "acme", calendar, run_day), weeks, quiet=True)
            stop = threading.Event()
            timer = threading.Timer(run_seconds, stop.set)
            timer.start()
            result = run_engagement(
                engagement,
                "quote",
                store,
                settings=settings,
                options=RunOptions(today=day, progress=False, stop=stop),
            )
            timer.cancel()
            run_day[result.run.id] = day
            click.echo(f"{day} {day:%a} run {result.run.id}: {dict(result.counts)}")
        final = _as_of(store, "acme", calendar, run_day)
        store.close()
    _report(made, final, weeks)


def _report(made: list[Made], final: list[Renewal], weeks: int, *, quiet: bool = False) -> None:
    """Each forecast beside what happened (its horizon's lines have all passed), then the
    errors and the calibration over them (`quiet`: the forecasts only, as they resolve)."""
    counts = []  # (P50, P80 low, P80 high, actual)
    money: dict[str, list[tuple[Decimal, Decimal, Decimal, Decimal]]] = {}
    for m in made:
        end = m.day + timedelta(weeks=weeks)
        # Quoted before the forecast was made: not in its judged set (it forecasts the rest).
        judged = [
            r
            for r in final
            if m.day <= r.line < end and (r.quoted_on is None or r.quoted_on >= m.day)
        ]
        actual = {r.opportunity_id for r in judged if r.quoted_on is None or r.quoted_on > r.line}
        m.actual = m.actual if m.actual is not None else actual
        named = {a.renewal.opportunity_id for a in m.result.at_risk}
        low, high = m.result.missing_band
        counts.append((len(named), low, high, len(actual)))
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
            f"forecast {m.day}: missing P50 {len(named)} (P80 {low}-{high}) actual {len(actual)}"
            f" [named right {len(named & actual)}, wrongly {len(named - actual)},"
            f" unnamed {len(actual - named)}]; " + "; ".join(shown)
        )
    if quiet:
        return
    if not counts:
        click.echo("no forecast had its horizon inside the quarter: lengthen --days")
        return
    click.echo(f"\n{len(counts)} forecasts, each over the next {weeks} weeks' lines")
    _summary(
        "renewals", [(Decimal(a), Decimal(b), Decimal(c), Decimal(d)) for a, b, c, d in counts]
    )
    for currency, rows in money.items():
        _summary(f"money {currency}", rows)


def _summary(what: str, rows: list[tuple[Decimal, Decimal, Decimal, Decimal]]) -> None:
    """Mean absolute error and bias of the P50, the baseline "none will miss" forecast's
    error, and the share of actuals inside the P80 band."""
    n = len(rows)
    mae = sum((abs(p50 - real) for p50, _, _, real in rows), Decimal(0)) / n
    bias = sum((p50 - real for p50, _, _, real in rows), Decimal(0)) / n
    baseline = sum((real for *_, real in rows), Decimal(0)) / n
    inside = sum(low <= real <= high for _, low, high, real in rows) / n
    click.echo(
        f"{what:<10} P50 mean absolute error {mae:,.2f} (bias {bias:+,.2f}); baseline 'none will"
        f" miss' {baseline:,.2f}; actual inside the P80 band in {inside:.0%} of forecasts"
        " (goal 75-85 %)"
    )


if __name__ == "__main__":
    main()
