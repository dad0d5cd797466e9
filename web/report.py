"""`quotebot report`: the dashboard's figures as a self-contained HTML file, CSV or XLSX."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd

from audit.metrics import Figures, compute
from store import Store
from web._deps import TEMPLATES
from web._figview import hours, layout, pct

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
) -> Figures:
    """The managers' figures for a window of days (default: the 30 days up to today, UTC),
    of every engagement or of one: what the dashboard shows and the report writes."""
    until = until or store.now().date()
    since = since or until - timedelta(days=29)
    items, events, findings = store.metric_frames(engagement)
    return compute(items, events, findings, since=since, until=until, today=today)


def tables(figures: Figures) -> dict[str, pd.DataFrame]:
    """Each figure table under the name it has in the CSV and as an XLSX sheet."""
    return {
        "per_engagement": figures.per_engagement,
        "daily": figures.daily,
        "findings_by_rule": figures.findings_by_rule,
        "cycle_times": figures.cycle_times,
        "backlog": figures.backlog,
        "states": figures.states,
    }


def html(figures: Figures, generated: str) -> str:
    """One file that opens offline: styles inlined, charts as inline SVG, no script."""
    template = TEMPLATES.env.get_template("report.html")
    return template.render(
        css=_CSS.read_text(encoding="utf-8"), generated=generated, **layout(figures)
    )


def long_csv(figures: Figures) -> pd.DataFrame:
    """Every number in one tidy table: table, day, engagement, key, metric, value."""
    frames = []
    for name, table in tables(figures).items():
        ids = [c for c in ("day", "engagement", "span", "rule", "severity") if c in table]
        long = table.melt(id_vars=ids, var_name="metric", value_name="value")
        long.insert(0, "table", name)
        frames.append(long)
    columns = ["table", "day", "engagement", "span", "rule", "severity", "metric", "value"]
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)


def write(figures: Figures, path: Path, fmt: Format, generated: str) -> Path:
    if fmt == "html":
        path.write_text(html(figures, generated), encoding="utf-8")
    elif fmt == "csv":
        long_csv(figures).to_csv(path, index=False)
    else:
        with pd.ExcelWriter(path, engine="openpyxl") as book:
            for name, table in tables(figures).items():
                table.to_excel(book, sheet_name=name, index=False)
    return path
