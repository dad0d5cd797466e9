"""`quotebot report`: the dashboard's figures as a self-contained HTML file, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from markupsafe import Markup

from audit.metrics import BACKLOG_BUCKETS, STATES, Figures, compute
from schemas.words import rule_words, severity_words
from schemas.work import outcome_label
from store import Store
from web._deps import TEMPLATES
from web._figview import SPAN_NAMES, hours, layout, pct
from web._forecast import Panel
from web._forecast import frames as forecast_frames

__all__ = ["Format", "figures", "hours", "html", "long_csv", "pct", "tables", "write"]

Format = Literal["html", "csv", "xlsx"]
_CSS = Path(__file__).parent / "static" / "app.css"


def figures(
    store: Store,
    *,
    since: date | None,
    until: date | None,
    today: date,
    engagement: str | None = None,
    within: Sequence[str] | None = None,
) -> Figures:
    """The managers' figures for a window of days (default: the 30 days up to today, UTC),
    of every engagement, of one, or of those `within` (a person's own): what the dashboard
    shows and the report writes."""
    until = until or store.now().date()
    since = since or until - timedelta(days=29)
    tallies = store.tallies(since, until, engagement, within=within)
    return compute(tallies, since=since, until=until, today=today)


TABLE_WORDS = {
    "per_engagement": "Per engagement",
    "daily": "Per day and engagement",
    "findings_by_rule": "Findings by rule",
    "cycle_times": "Cycle times",
    "backlog": "Still to do, by days left",
    "states": "Work items now",
    # The forecast panel's: its summary per engagement under the panel's own heading.
    "forecast_weeks": "Week by week",
    "renewals_at_risk": "Renewals at risk",
    "money_at_risk": "Before the 120-day line",
    "sampled_accuracy": "How often people disagree",
}
"""Each table's name, as the dashboard heads it (and an XLSX sheet is named)."""

COLUMN_WORDS = {
    # The states' words first: a figure of the same name below says it in its own way.
    **{s: outcome_label(s) for s in (*STATES, "failed_business", "failed_system")},
    "day": "Day",
    "engagement": "Engagement",
    "span": "From → to",
    "rule": "Rule",
    "severity": "Severity",
    "entered": "Entered",
    "verified": "Verified",
    "booked": "Booked",
    "checked": "Read back",
    "first_pass": "Right on first read-back",
    "first_pass_rate": "First-pass accuracy",
    "quoted": "Quoted",
    "quoted_early": "Quoted ≥ 120 days early",
    "early_share": "Share quoted ≥ 120 days early",
    "findings": "Findings",
    "n": "Items",
    "p50_hours": "Median (half took less)",
    "p90_hours": "9 in 10 took less than",
    "items": "Renewals",
    # The forecast's and the sampled accuracy's tables.
    "week_of": "Week of",
    "opportunity": "Renewal",
    "account": "Account",
    "contract_end": "Contract end",
    "line": "120-day line",
    "annual_value": "Annual value",
    "currency": "Currency",
    "miss_share": "Chance to miss the line",
    "windows_opening": "Windows opening",
    "quoted_in_time_p50": "Quoted in time (likely)",
    "quoted_in_time_p80_low": "Quoted in time, 8 in 10: at least",
    "quoted_in_time_p80_high": "Quoted in time, 8 in 10: at most",
    "missing_p50": "Missing the line (likely)",
    "missing_p80_low": "Missing, 8 in 10: at least",
    "missing_p80_high": "Missing, 8 in 10: at most",
    "money_at_risk": "Money at risk (likely)",
    "money_p80_low": "Money at risk, 8 in 10: at least",
    "money_p80_high": "Money at risk, 8 in 10: at most",
    "renewals_missing": "Renewals that will miss the line",
    "already_late": "Already past the line",
    "smallest_change": "Smallest change that saves them",
    "sampled": "Sampled",
    "sampled_for_value": "Sampled for their value",
    "decided": "Decided by an auditor",
    "disagreed": "Auditor disagreed",
    "disagreement_rate": "Audit wrong (measured)",
    "ci95_low_rate": "Audit wrong, 95 % interval: from",
    "ci95_high_rate": "Audit wrong, 95 % interval: to",
    "samples_for_one_point": "Samples needed for ±1 point",
    **{b: f"{b} days" if b[0] in "0123456789>" else b for b in BACKLOG_BUCKETS},
}
"""Each column's name, in the dashboard's words."""
RATES = (
    "first_pass_rate",
    "early_share",
    "miss_share",
    "disagreement_rate",
    "ci95_low_rate",
    "ci95_high_rate",
)
DURATIONS = ("p50_hours", "p90_hours")


def tables(figures: Figures, forecast: Panel | None = None) -> dict[str, pd.DataFrame]:
    """Each figure table under its code (the CSV's and the sheets' names are its words),
    with the forecast's and the sampled accuracy's when given."""
    return {
        "per_engagement": figures.per_engagement,
        "daily": figures.daily,
        "findings_by_rule": figures.findings_by_rule,
        "cycle_times": figures.cycle_times,
        "backlog": figures.backlog,
        "states": figures.states,
        **(forecast_frames(forecast) if forecast is not None else {}),
    }


def _said(table: pd.DataFrame) -> pd.DataFrame:
    """A table's key values in words: rules, severities, spans (the numbers untouched)."""
    shown = table.copy()
    for column, words in (("rule", rule_words), ("severity", severity_words)):
        if column in shown:
            shown[column] = shown[column].map(words)
    if "span" in shown:
        shown["span"] = shown["span"].map(lambda s: SPAN_NAMES.get(s, s))
    return shown


def html(figures: Figures, generated: str, forecast: Panel | None = None) -> str:
    """One file that opens offline: styles inlined, charts as inline SVG, no script."""
    template = TEMPLATES.env.get_template("report.html")
    return template.render(
        # Our own style sheet, not text: escaped, its quotes became &#34; inside <style>.
        css=Markup(_CSS.read_text(encoding="utf-8")),
        generated=generated,
        forecast_panel=forecast,
        **layout(figures),
    )


_KEYS = ("day", "engagement", "span", "rule", "severity", "week_of", "opportunity", "currency")
CSV_COLUMNS = ["Table", *(COLUMN_WORDS[k] for k in _KEYS), "Figure", "Value"]


def long_csv(figures: Figures, forecast: Panel | None = None) -> pd.DataFrame:
    """Every number in one tidy table, in the dashboard's words: table, day, engagement,
    span, rule, severity (and the forecast's week, renewal and currency), figure, value.
    Percentages are numbers of percent ("(%)" in the figure's name), durations numbers of
    hours ("(hours)"): a spreadsheet sums and formats them; counts stay integers."""
    frames = []
    for name, table in tables(figures, forecast).items():
        ids = [c for c in _KEYS if c in table]
        shown = _said(table).astype(object)
        for column in RATES:
            if column in shown:
                shown[column] = [_rounded(None if v is None else 100 * v, 4) for v in table[column]]
        for column in DURATIONS:
            if column in shown:
                shown[column] = [_rounded(v, 6) for v in table[column]]
        long = shown.melt(id_vars=ids, var_name="metric", value_name="value")
        long["metric"] = long["metric"].map(_figure_name)
        long.insert(0, "table", TABLE_WORDS[name])
        frames.append(long)
    columns = ["table", *_KEYS, "metric", "value"]
    both = pd.concat(frames, ignore_index=True).reindex(columns=columns)
    return both.set_axis(CSV_COLUMNS, axis=1)


def _figure_name(column: str) -> str:
    said = COLUMN_WORDS.get(column, column.replace("_", " "))
    if column in RATES:
        return f"{said} (%)"
    if column in DURATIONS:
        return f"{said} (hours)"
    return said


def _rounded(value: Any, places: int) -> Any:
    return None if value is None or pd.isna(value) else round(float(value), places)


def write(
    figures: Figures, path: Path, fmt: Format, generated: str, forecast: Panel | None = None
) -> Path:
    if fmt == "html":
        path.write_text(html(figures, generated, forecast), encoding="utf-8")
    elif fmt == "csv":
        long_csv(figures, forecast).to_csv(path, index=False)
    else:
        with pd.ExcelWriter(path, engine="openpyxl") as book:
            for name, table in tables(figures, forecast).items():
                shown = _said(table)
                # Durations as spreadsheet durations (days), shown as hours:minutes:seconds.
                for column in DURATIONS:
                    if column in shown:
                        shown[column] = shown[column] / 24
                sheet = TABLE_WORDS[name]
                shown.rename(columns=COLUMN_WORDS).to_excel(book, sheet_name=sheet, index=False)
                _number_formats(book.sheets[sheet], list(table.columns))
    return path


def _number_formats(sheet: Any, columns: list[str]) -> None:
    """Rates as percentages and durations as [h]:mm:ss (under a minute is not 0:00), so a
    manager reads them as shown; columns wide enough for their words."""
    for position, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=position).column_letter
        sheet.column_dimensions[letter].width = max(10, len(COLUMN_WORDS.get(column, column)) + 2)
        if column in RATES:
            number_format = "0.0%"
        elif column in DURATIONS:
            number_format = "[h]:mm:ss"
        else:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            cell.number_format = number_format
