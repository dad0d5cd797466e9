"""The forecast panel and the sampled accuracy of the audit, for the dashboard and the report:
which renewals will miss the 120-day line, the money at risk per client, the change that
saves them, and how often people disagreed with "verified"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from audit.forecast import Forecast, NoThroughput, engagement_forecast
from audit.sampling import Accuracy
from schemas.engagement import Engagement, EngagementError, load_engagements
from schemas.forecast import SampleCounts
from store import Store, UnknownEngagement

if TYPE_CHECKING:
    import pandas as pd

WEEKS = 26
"""How far ahead the panel and the report forecast."""


@dataclass(frozen=True)
class SampledAccuracy:
    """One engagement's (or all engagements') quality-control samples and their verdicts."""

    engagement: str
    counts: SampleCounts
    accuracy: Accuracy


@dataclass
class Panel:
    forecasts: list[Forecast] = field(default_factory=list)
    not_forecast: list[str] = field(default_factory=list)
    """Why an engagement has no forecast, in words."""
    accuracy: list[SampledAccuracy] = field(default_factory=list)

    @property
    def money_at_risk(self) -> dict[str, dict[str, Decimal]]:
        """Per client (engagement): the annual value of its renewals that will miss."""
        return {f.engagement: f.money_at_risk for f in self.forecasts if f.money_at_risk}


def panel(
    store: Store,
    engagements_file: Path | None,
    *,
    today: date,
    engagement: str | None = None,
    within: Sequence[str] | None = None,
    weeks: int = WEEKS,
) -> Panel:
    """The forecasts of the engagements a person sees (or the one asked for) and the
    sampled accuracy of their audits."""
    shown = Panel()
    start = datetime.combine(today, time(0), tzinfo=UTC)
    for eng in _engagements(engagements_file, shown):
        if (engagement and eng.name != engagement) or (
            within is not None and eng.name not in within
        ):
            continue
        try:
            shown.forecasts.append(
                engagement_forecast(
                    eng,
                    store.renewals(eng.name, as_of=today),
                    store.run_throughput(eng.name),
                    start,
                    weeks,
                )
            )
        except (NoThroughput, UnknownEngagement):
            shown.not_forecast.append(f"{eng.name}: no finished quoting run yet to measure from.")
    counts = store.sample_counts(engagement, within=within) if _known(store, engagement) else []
    shown.accuracy = [
        SampledAccuracy(c.engagement, c, Accuracy(c.decided, c.disagreed)) for c in counts
    ]
    if len(counts) > 1:
        total = SampleCounts(
            engagement="all",
            **{
                key: sum(getattr(c, key) for c in counts)
                for key in ("verified", "sampled", "by_value", "decided", "disagreed")
            },
        )
        shown.accuracy.append(
            SampledAccuracy("all", total, Accuracy(total.decided, total.disagreed))
        )
    return shown


def _known(store: Store, engagement: str | None) -> bool:
    return engagement is None or engagement in {e.name for e in store.engagements()}


def _engagements(path: Path | None, shown: Panel) -> list[Engagement]:
    if path is None:
        shown.not_forecast.append("No engagements file: schedules unknown, nothing forecast.")
        return []
    try:
        return load_engagements(path, check_files=False)
    except EngagementError as exc:
        shown.not_forecast.append(f"The engagements file cannot be read: {exc}")
        return []


def frames(shown: Panel) -> dict[str, pd.DataFrame]:
    """The panel as tables for the CSV and XLSX report: the weeks, the renewals at risk,
    the money at risk per client, the sampled accuracy."""
    import pandas as pd

    weeks = [
        {
            "engagement": f.engagement,
            "week_of": w.start,
            "windows_opening": w.opening,
            "quoted_in_time_p50": w.quoted_in_time,
            "quoted_in_time_p80_low": w.quoted_band[0],
            "quoted_in_time_p80_high": w.quoted_band[1],
            "missing_p50": w.missing,
            "missing_p80_low": w.missing_band[0],
            "missing_p80_high": w.missing_band[1],
        }
        for f in shown.forecasts
        for w in f.weeks
    ]
    at_risk = [
        {
            "engagement": f.engagement,
            "opportunity": a.renewal.opportunity_id,
            "account": a.renewal.account_name,
            "contract_end": a.renewal.contract_end,
            "line": a.renewal.line,
            "annual_value": a.renewal.annual_value,
            "currency": a.renewal.currency,
            "miss_share": a.chance,
        }
        for f in shown.forecasts
        for a in f.at_risk
    ]
    money = [
        {
            "engagement": f.engagement,
            "currency": currency,
            "money_at_risk": value,
            "money_p80_low": f.money_band.get(currency, (value, value))[0],
            "money_p80_high": f.money_band.get(currency, (value, value))[1],
            "renewals_missing": len(f.at_risk),
            "already_late": len(f.late),
            "smallest_change": f.change.words if f.change else "",
        }
        for f in shown.forecasts
        for currency, value in (f.money_at_risk or {"": Decimal(0)}).items()
    ]
    accuracy = [
        {
            "engagement": a.engagement,
            "verified": a.counts.verified,
            "sampled": a.counts.sampled,
            "sampled_for_value": a.counts.by_value,
            "decided": a.accuracy.n,
            "disagreed": a.accuracy.disagreed,
            "disagreement_rate": a.accuracy.rate,
            "ci95_low_rate": a.accuracy.interval[0] if a.accuracy.interval else None,
            "ci95_high_rate": a.accuracy.interval[1] if a.accuracy.interval else None,
            "samples_for_one_point": a.accuracy.needed_for_one_point,
        }
        for a in shown.accuracy
    ]
    return {
        "forecast_weeks": pd.DataFrame(weeks),
        "renewals_at_risk": pd.DataFrame(at_risk),
        "money_at_risk": pd.DataFrame(money),
        "sampled_accuracy": pd.DataFrame(accuracy),
    }
