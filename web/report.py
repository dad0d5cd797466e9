"""`quotebot report`: the dashboard's figures as a self-contained HTML file, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from markupsafe import Markup

from audit.metrics import Figures, compute
from store import Store
from web._deps import TEMPLATES
from web._figview import hours, layout, pct
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


def tables(figures: Figures, forecast: Panel | None = None) -> dict[str, pd.DataFrame]:
    """Each figure table under the name it has in the CSV and as an XLSX sheet (with the
    forecast's and the sampled accuracy's when given)."""
    return {
        "per_engagement": figures.per_engagement,
        "daily": figures.daily,
        "findings_by_rule": figures.findings_by_rule,
        "cycle_times": figures.cycle_times,
        "backlog": figures.backlog,
        "states": figures.states,
        **(forecast_frames(forecast) if forecast is not None else {}),
    }


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


def long_csv(figures: Figures, forecast: Panel | None = None) -> pd.DataFrame:
    """Every number in one tidy table: table, day, engagement, key, metric, value."""
    frames = []
    for name, table in tables(figures, forecast).items():
        ids = [c for c in _KEYS if c in table]
        # As objects, so counts stay integers beside the rates (3, not 3.0).
        long = table.astype(object).melt(id_vars=ids, var_name="metric", value_name="value")
        long.insert(0, "table", name)
        frames.append(long)
    columns = ["table", *_KEYS, "metric", "value"]
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)


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
                hours_columns = [c for c in table if c.endswith("_hours")]
                shown = table.copy()
                # Durations as spreadsheet durations (days), shown as hours and minutes.
                shown[hours_columns] = shown[hours_columns] / 24
                shown = shown.rename(
                    columns={c: c.replace("_hours", "_duration") for c in hours_columns}
                )
                shown.to_excel(book, sheet_name=name, index=False)
                _number_formats(book.sheets[name], list(table.columns))
    return path


def _number_formats(sheet: Any, columns: list[str]) -> None:
    """Rates as percentages and durations as [h]:mm, so a manager reads them as shown."""
    for position, column in enumerate(columns, start=1):
        if column.endswith(("_rate", "_share")):
            number_format = "0.0%"
        elif column.endswith("_hours"):
            number_format = "[h]:mm"
        else:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
            cell.number_format = number_format
