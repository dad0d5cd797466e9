"""The demo's manager summary: what the bots did, how accurate, how fast (from the store).

A stand-in for the manager report of `quotebot report` (web/): a self-contained HTML page
and the text the demo prints, both built from the work items' event history.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.work import ItemEvent, ItemState
from store import Store

_S = ItemState


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (`share` 0.5 is the median); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class EngagementFigures:
    name: str
    due: int = 0
    entered: int = 0
    verified_first_pass: int = 0
    flagged: int = 0
    to_review: int = 0
    failed: int = 0
    booked: int = 0
    read_to_entered: list[float] = field(default_factory=list)
    entered_to_verified: list[float] = field(default_factory=list)
    audit_quotes: int = 0
    audit_passed: int = 0
    findings_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def accuracy(self) -> float | None:
        return self.verified_first_pass / self.entered if self.entered else None


@dataclass
class Summary:
    engagements: list[EngagementFigures]
    seconds: float
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def total(self, attribute: str) -> Any:
        values = [getattr(e, attribute) for e in self.engagements]
        return sum(values, []) if isinstance(values[0], list) else sum(values)

    @property
    def accuracy(self) -> float | None:
        entered = self.total("entered")
        return self.total("verified_first_pass") / entered if entered else None

    def text(self, home: Path) -> str:
        """What the demo prints: the figures, then where to look next."""
        p = _seconds
        r2e, e2v = self.total("read_to_entered"), self.total("entered_to_verified")
        lines = [f"quotebot demo: done in {self.seconds:.0f} s"]
        for e in self.engagements:
            lines.append(
                f"  {e.name:<8} renewals due {e.due}: quotes entered {e.entered}, verified "
                f"{e.verified_first_pass}, flagged {e.flagged}, to review {e.to_review}, "
                f"failed {e.failed}; booked {e.booked}"
            )
        lines += [
            f"quotes entered and verified: {self.total('entered')} entered, "
            f"{self.total('verified_first_pass')} verified on first read-back",
            f"first-pass accuracy: {_share(self.accuracy)} (batch audit of the portals' exports: "
            f"{_share(_ratio(self.total('audit_passed'), self.total('audit_quotes')))})",
            f"flagged for the quote audit team: {self.total('flagged')} quotes, "
            f"{self.total('to_review')} renewals with bad data",
            f"cycle time read -> entered: p50 {p(percentile(r2e, 0.5))}, "
            f"p90 {p(percentile(r2e, 0.9))}; entered -> verified: p50 {p(percentile(e2v, 0.5))}, "
            f"p90 {p(percentile(e2v, 0.9))}",
            "",
            "where to look next:",
            f"  manager report     {home / 'report.html'}",
            f"  audit findings     {home / 'audit'}/<engagement>/findings.csv",
            f"  engagements file   {home / 'engagements.yaml'}",
            f"  failed items' screenshots and traces: {home / 'evidence'}",
            f"  export QUOTEBOT_HOME={home}   then:",
            "    quotebot runs list            quotebot runs show RUN_ID",
            "    quotebot schedule list        quotebot items retry ITEM_ID",
            "  the web pages on these results: quotebot demo --serve  (reruns the demo first)",
        ]
        return "\n".join(lines)


def summarise(store: Store, names: list[str], audits: dict[str, Any], seconds: float) -> Summary:
    """Figures per engagement from its items and their events, plus the batch audit's."""
    figures = []
    for name in names:
        f = EngagementFigures(name)
        items = store.items(name)
        f.due = len(items)
        states = Counter(i.state for i in items)
        f.flagged = states[_S.FLAGGED]
        f.booked = states[_S.BOOKED]
        f.to_review = sum(1 for i in items if i.state is _S.FAILED and i.failure_kind == "business")
        f.failed = states[_S.FAILED] - f.to_review
        by_item: dict[int, list[ItemEvent]] = {}
        for event in store.events(engagement=name):
            by_item.setdefault(event.item_id, []).append(event)
        for events in by_item.values():
            _cycle(f, events)
        result = audits.get(name)
        if result is not None:
            f.audit_quotes, f.audit_passed = result.quotes, result.passed
            f.findings_by_rule = result.by_rule
        figures.append(f)
    return Summary(figures, seconds)


def _cycle(f: EngagementFigures, events: list[ItemEvent]) -> None:
    first: dict[ItemState, datetime] = {}
    after_entered: ItemState | None = None
    for event in events:
        first.setdefault(event.to_state, event.at)
        if event.from_state is _S.ENTERED and after_entered is None:
            after_entered = event.to_state
    if _S.ENTERED not in first:
        return
    f.entered += 1
    if _S.NEW in first:
        f.read_to_entered.append((first[_S.ENTERED] - first[_S.NEW]).total_seconds())
    if after_entered is _S.VERIFIED:
        f.verified_first_pass += 1
        f.entered_to_verified.append((first[_S.VERIFIED] - first[_S.ENTERED]).total_seconds())


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def write_report(summary: Summary, path: Path) -> Path:
    """The manager report as one HTML file with no outside references."""
    rows = []
    for e in summary.engagements:
        cells = [
            e.name,
            e.due,
            e.entered,
            e.verified_first_pass,
            _share(e.accuracy),
            e.flagged,
            e.to_review,
            e.failed,
            e.booked,
            _share(_ratio(e.audit_passed, e.audit_quotes)),
            _seconds(percentile(e.read_to_entered, 0.5)),
            _seconds(percentile(e.read_to_entered, 0.9)),
            _seconds(percentile(e.entered_to_verified, 0.5)),
            _seconds(percentile(e.entered_to_verified, 0.9)),
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    heads = [
        "engagement",
        "renewals due",
        "quotes entered",
        "verified first pass",
        "first-pass accuracy",
        "flagged",
        "to review",
        "failed",
        "booked",
        "batch audit accuracy",
        "read→entered p50",
        "p90",
        "entered→verified p50",
        "p90",
    ]
    findings = "".join(
        f"<tr><td>{html.escape(e.name)}</td><td>{html.escape(rule)}</td><td>{n}</td></tr>"
        for e in summary.engagements
        for rule, n in e.findings_by_rule.items()
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quotebot manager report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}th{{background:#eee}}
td:first-child{{text-align:left}}</style></head><body>
<h1>Quotebot manager report</h1>
<p>Generated {summary.at:%Y-%m-%d %H:%M} UTC in {summary.seconds:.0f} s.
First-pass accuracy overall: <b>{_share(summary.accuracy)}</b>.</p>
<h2>Throughput, accuracy and cycle times</h2>
<table><tr>{"".join(f"<th>{html.escape(h)}</th>" for h in heads)}</tr>{"".join(rows)}</table>
<h2>Batch audit findings by rule</h2>
<table><tr><th>engagement</th><th>rule</th><th>findings</th></tr>{findings}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
