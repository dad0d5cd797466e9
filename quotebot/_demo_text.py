"""What the demo prints: the managers' figures as the report shows them, then where to look.

Every number comes from `audit.metrics.Figures` (the dashboard's and the report's) and is
formatted as the report formats it, so the demo and the report never disagree.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.batch import AuditResult
from audit.metrics import ALL, Figures
from schemas.alerts import shown
from schemas.settings import AlertSettings
from web.report import hours, pct


def _row(table: pd.DataFrame, engagement: str, **where: str) -> pd.Series:
    mask = table["engagement"] == engagement
    for column, value in where.items():
        mask &= table[column] == value
    return table[mask].iloc[0]


def _span(figures: Figures, span: str) -> str:
    row = _row(figures.cycle_times, ALL, span=span)
    return f"p50 {hours(row.p50_hours)}, p90 {hours(row.p90_hours)}"


def summary_text(
    figures: Figures, audits: dict[str, AuditResult], seconds: float, home: Path
) -> str:
    """The figures per engagement and in all, then the files and commands to look at next."""
    lines = [f"quotebot demo: done in {seconds:.0f} s"]
    engagements = [e for e in figures.states["engagement"] if e != ALL]
    for name in engagements:
        now, done = _row(figures.states, name), _row(figures.per_engagement, name)
        lines.append(
            f"  {name:<8} renewals due {now['items']}: quotes entered {done.entered}, verified "
            f"{done.verified} ({done.first_pass} on first read-back), flagged {now.flagged}, "
            f"to review {now.failed_business}, failed {now.failed_system}; booked {done.booked}"
        )
    now, done = _row(figures.states, ALL), _row(figures.per_engagement, ALL)
    audited = sum(a.quotes for a in audits.values())
    passed = sum(a.passed for a in audits.values())
    lines += [
        f"quotes entered and verified: {done.entered} entered, {done.verified} verified "
        f"({done.first_pass} on first read-back)",
        f"first-pass accuracy: {pct(done.first_pass_rate)} ({done.first_pass} of "
        f"{done.checked} read back; batch audit of the portals' exports: "
        f"{pct(passed / audited if audited else None)})",
        f"quoted at least 120 days before contract end: {pct(done.early_share)}",
        f"flagged for the quote audit team: {now.flagged} quotes, "
        f"{now.failed_business} renewals with bad data",
        f"cycle time read -> entered: {_span(figures, 'read_to_entered')}; "
        f"entered -> verified: {_span(figures, 'entered_to_verified')}",
        "",
        "where to look next:",
        f"  manager report     {home / 'report.html'}",
        f"  audit findings     {home / 'audit'}/<engagement>/findings.csv",
        f"  engagements file   {home / 'engagements.yaml'}",
        f"  failed items' screenshots and traces: {home / 'evidence'}",
        f"  export QUOTEBOT_HOME={home}   then:",
        "    quotebot runs list            quotebot runs show RUN_ID",
        "    quotebot schedule list        quotebot items retry ITEM_ID",
        "    quotebot report --format csv  (the same figures as a file)",
        "  the web pages on these results: quotebot demo --serve  (reruns the demo first)",
    ]
    return "\n".join(lines)


def alerts_line(settings: AlertSettings) -> str:
    """Where the alerts of these engagements would go (addresses and endpoints, no secret)."""
    places = []
    if settings.smtp_host and settings.recipients:
        places.append(
            f"e-mail to {', '.join(settings.recipients)} via {settings.smtp_host}:"
            f"{settings.smtp_port}"
        )
    places += [f"webhook {shown(url)}" for url in settings.webhook_urls]
    if not places:
        return (
            "alerts: none would be sent (no channel set: QUOTEBOT_ALERTS__SMTP_HOST and "
            "__RECIPIENTS, or __WEBHOOK_URLS; `quotebot alerts test` tries them)"
        )
    return "alerts would go to: " + "; ".join(places)
