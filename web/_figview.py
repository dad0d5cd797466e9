"""The managers' figures laid out for a page: tiles, charts and tables (dashboard and report)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from audit.metrics import ALL, BACKLOG_BUCKETS, SPANS, STATES, THROUGHPUT, Figures
from schemas.words import rule_words, severity_words
from schemas.work import STILL_TO_DO
from web._charts import grouped_bars, horizontal_bars


def day_labels(days: list[Any]) -> list[str]:
    """The chart's day labels: with the year when the range crosses one (a long range
    must never seem to run backwards from December to January)."""
    if days and days[0].year != days[-1].year:
        return [d.strftime("%Y-%m-%d") for d in days]
    return [d.strftime("%d %b") for d in days]


SPAN_NAMES = {
    "read_to_entered": "opportunity read → quote entered",
    "entered_to_verified": "quote entered → verified",
    "quote_to_booked": "quote entered → booked",
}


def pct(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * float(value):.1f} %"


def hours(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    value = float(value)
    if value < 1 / 60:
        return f"{value * 3600:.0f} s"
    if value < 1:
        return f"{value * 60:.0f} min"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def layout(figures: Figures) -> dict[str, Any]:
    """Everything the figures partial shows, computed once for HTML (page and report)."""
    per = figures.per_engagement
    total = per[per["engagement"] == ALL].iloc[0]
    # Every day of the range, the empty ones too: a gap in the bars is a day with nothing.
    days = [d.date() for d in pd.date_range(figures.since, figures.until, freq="D")]
    daily = figures.daily.groupby("day")[list(THROUGHPUT)].sum().reindex(days, fill_value=0)
    backlog_all = figures.backlog[figures.backlog["engagement"] == ALL]
    backlog_total = backlog_all.iloc[0] if len(backlog_all) else None
    return {
        "figures": figures,
        "total": total,
        "per_engagement": per.to_dict("records"),
        "daily_rows": figures.daily.to_dict("records"),
        "empty_period": int(daily.to_numpy().sum()) == 0,
        "daily_chart": grouped_bars(
            day_labels(list(daily.index)),
            {state: daily[state].tolist() for state in THROUGHPUT},
            title="Quotes entered, verified and booked per day",
        ),
        "findings_chart": horizontal_bars(
            [
                (f"{rule_words(r.rule)} ({severity_words(r.severity).lower()})", r.findings)
                for r in figures.findings_by_rule.itertuples()
            ],
            title="Findings by rule",
            colour=4,
        ),
        "findings_rows": figures.findings_by_rule.to_dict("records"),
        "backlog_chart": horizontal_bars(
            [(b, int(backlog_total[b])) for b in BACKLOG_BUCKETS]
            if backlog_total is not None
            else [],
            title="Still to do, by days left",
            colour=2,
        ),
        "backlog_rows": figures.backlog.to_dict("records"),
        "still_to_do": STILL_TO_DO,
        "states": STATES,
        "state_rows": figures.states.to_dict("records"),
        "buckets": BACKLOG_BUCKETS,
        "cycle_rows": figures.cycle_times.to_dict("records"),
        "spans": SPAN_NAMES,
        "span_keys": list(SPANS),
        "pct": pct,
        "hours": hours,
    }
