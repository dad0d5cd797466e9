"""Charts as inline SVG drawn on the server: no script, no CDN, readable at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

COLOURS = ("#2f6fb0", "#3a9d5d", "#c9852b", "#8a5cb8", "#c4473d")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def grouped_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    height: int = 220,
) -> Markup:
    """Vertical bars per label (e.g. per day), one colour per series, with a legend."""
    # Capped: a 90-day range gets thinner bars, not a chart scaled down past reading.
    width = min(1100, max(420, 26 * len(labels) * max(1, len(series)) // 2 + 80))
    top = max([max(v, default=0) for v in series.values()] + [1])
    plot_h, left, bottom = height - 60, 40, height - 30
    group_w = (width - left - 10) / max(1, len(labels))
    bar_w = max(2.0, group_w * 0.8 / max(1, len(series)))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{bottom}" x2="{width - 5}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{bottom - plot_h + 4}" text-anchor="end" '
        f'font-size="10">{_fmt(top)}</text>',
    ]
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, (name, values) in enumerate(series.items()):
            value = values[i]
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{bottom - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}">'
                f"<title>{escape(label)} {escape(name)}: {_fmt(value)}</title></rect>"
            )
        if len(labels) <= 16 or i % max(1, len(labels) // 12) == 0:
            parts.append(
                f'<text x="{x0 + group_w * 0.4:.1f}" y="{bottom + 14}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    for j, name in enumerate(series):
        x = left + j * 110
        parts.append(
            f'<rect x="{x}" y="6" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="15" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(rows: Sequence[tuple[str, float]], *, title: str, colour: int = 0) -> Markup:
    """One bar per row with its label and value (findings by rule, backlog by days left)."""
    label_w, bar_max, row_h = 250, 260, 22
    height = max(1, len(rows)) * row_h + 10
    width = label_w + bar_max + 70
    top = max([v for _, v in rows] + [1])
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 5 + i * row_h
        w = bar_max * value / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="11">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{COLOURS[colour % len(COLOURS)]}"/>'
            f'<text x="{label_w + w + 5:.1f}" y="{y + 14}" font-size="11">{_fmt(value)}</text>'
        )
    if not rows:
        parts.append('<text x="10" y="20" font-size="12">nothing in this period</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
