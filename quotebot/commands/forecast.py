"""`quotebot forecast`: before the 120-day line, which renewals will miss it and what saves
them (managers and operations)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quotebot._options import engagements_option, load_engagements, named_engagements
from schemas.engagement import Engagement
from schemas.settings import Settings

if TYPE_CHECKING:  # the forecast's imports wait until the command runs (`--help` stays quick)
    from audit.forecast import Forecast

MAX_WEEKS = 104


@click.command("forecast")
@click.argument("engagement", required=False)
@click.option(
    "--weeks",
    type=click.IntRange(1, MAX_WEEKS),
    default=26,
    show_default=True,
    help=f"How many weeks ahead to forecast (1-{MAX_WEEKS}).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Forecast from this business date (default: now).",
)
@engagements_option
@click.pass_obj
def forecast_command(
    settings: Settings,
    engagement: str | None,
    weeks: int,
    today: datetime | None,
    engagements_path: Path | None,
) -> None:
    """Week by week: renewals whose window opens, quotes in time and renewals that will miss
    the 120-day line (likely, and where 8 in 10 forecasts fall), named with their annual
    value, and the smallest change that saves them. Every engagement, or ENGAGEMENT."""
    from audit.forecast import NoThroughput, engagement_forecast
    from store import UnknownEngagement, open_store

    path, engagements = load_engagements(settings, engagements_path)
    chosen = named_engagements(path, engagements, [engagement]) if engagement else engagements
    start = datetime.combine(today.date(), time(0), tzinfo=UTC) if today else datetime.now(UTC)
    settings.home.mkdir(parents=True, exist_ok=True)
    refused = []
    with open_store(settings.effective_database_url) as store:
        for eng in chosen:
            try:
                result = engagement_forecast(
                    eng,
                    store.renewals(eng.name, as_of=start.date()),
                    store.run_throughput(eng.name),
                    start,
                    weeks,
                )
            except (NoThroughput, UnknownEngagement):
                refused.append(str(NoThroughput(eng.name)))
                continue
            for line in forecast_lines(eng, result):
                click.echo(line)
    if refused:
        raise click.ClickException("\n".join(refused))


def money(amounts: dict[str, Decimal]) -> str:
    """Amounts per currency, each with its currency (`EUR 1,200.00 + USD 30.00`)."""
    return " + ".join(f"{c} {v:,.2f}" for c, v in amounts.items()) or "0"


def forecast_lines(engagement: Engagement, result: Forecast) -> list[str]:
    """The forecast as a person reads it in a terminal: each figure the likely one (P50),
    then where 8 in 10 forecasts fall (the P80 band)."""
    low, high = result.missing_band
    lines = [
        f"{engagement.name}: forecast from {result.today} for {len(result.weeks)} weeks;"
        f" {result.runs} quoting runs, {result.per_run:.1f} quotes a run at the measured"
        " throughput",
        "Each figure: likely (P50), then 8 in 10 forecasts between the two in brackets (P80).",
        f"{'week of':<11} {'windows open':>12} {'quoted in time':>16} {'miss the line':>15}"
        "  money missing, likely",
    ]
    for week in result.weeks:
        lines.append(
            f"{week.start!s:<11} {week.opening:>12}"
            f" {f'{week.quoted_in_time} ({week.quoted_band[0]}-{week.quoted_band[1]})':>16}"
            f" {f'{week.missing} ({week.missing_band[0]}-{week.missing_band[1]})':>15}"
            f"  {money(week.money_missing) if week.missing else ''}"
        )
    between = "; ".join(
        f"{c} {a:,.2f} and {b:,.2f}" for c, (a, b) in result.money_band.items() if b
    )
    lines.append(
        f"Will miss the 120-day line: {len(result.at_risk)} renewals likely (P50), 8 in 10"
        f" forecasts between {low} and {high} (P80); money at risk, likely:"
        f" {money(result.money_at_risk)}"
        + (f" ({result.unvalued} of unknown value)" if result.unvalued else "")
        + (f", 8 in 10 forecasts between {between}" if between else "")
    )
    for risk in result.at_risk:
        r = risk.renewal
        value = f"{r.currency} {r.annual_value:,.2f}" if r.annual_value is not None else "value?"
        lines.append(
            f"  {r.opportunity_id:<14} {r.account_name[:28]:<28} ends {r.contract_end}"
            f"  line {r.line}  {value:>18}  misses in {risk.chance:.0%} of forecasts"
        )
    if result.late:
        lines.append(f"Already late (past the line, not quoted): {len(result.late)}")
        lines += [
            f"  {r.opportunity_id:<14} {r.account_name[:28]:<28} ends {r.contract_end}"
            f"  line {r.line}"
            for r in result.late
        ]
    change = result.change
    if change is not None:
        verdict = "saves them all" if change.saves_all else "saves the most"
        lines.append(
            f"Smallest change: {change.words}; forecast again with it: {verdict}"
            f" ({change.saves} of {change.of}"
            + (f"; {len(change.beyond_saving)} beyond saving" if change.beyond_saving else "")
            + ")"
        )
    return lines
