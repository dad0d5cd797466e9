"""What the store tallies as work items move, for the managers' figures (`audit.metrics`).

A million work items and their events are too many to read on every dashboard view. The
store keeps running tallies instead, written in the same transaction as each event, so a
dashboard reads a few thousand rows whatever the history's length:

- **counts**: per engagement, UTC day and metric (`MOVED` and `FIRSTS` below);
- **cycles**: per engagement, UTC day the span ended, span (`SPANS`) and duration bucket;
- **states**: per engagement, state and failure kind: where every item is now.

Durations are kept in buckets 1 % wide (`bucket_of`, `seconds_of`): a percentile read from
them is within 1 % of the exact one, and the tally stays small however long the history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas costs half a second to import: only the figures need it
    import pandas as pd

LEAD_DAYS = 120
"""AUDIT_SPEC's lead: a renewal should be quoted at least this many days before it ends."""

THROUGHPUT = ("entered", "verified", "booked")
"""The moves the throughput chart counts, each time they happen (a corrected quote again)."""
MOVED = {state: f"moved_{state}" for state in THROUGHPUT}
"""The count metric of each throughput move, on the day it happened."""

FIRSTS = ("entered", "verified", "booked", "checked", "first_pass", "quoted", "quoted_early")
"""Count metrics of once-per-item milestones, on the day each happened:

- entered, verified, booked: the item's first move to that state;
- checked: its first read-back (entered → verified or flagged); first_pass: that read-back
  passed;
- quoted: at its first read-back, a quote of a renewal with an end date, counted on the day
  the quote was first entered; quoted_early: of those, dated (the read-back's quote date,
  else the day entered) at least `LEAD_DAYS` before the contract ends.
"""

SPANS = {
    "read_to_entered": ("read", "entered"),
    "entered_to_verified": ("entered", "verified"),
    "quote_to_booked": ("entered", "booked"),
}
"""Cycle times: from an item's first `read` (created) or `entered` to its first move to the
second state, counted on the day that move happened."""

_RATIO = math.log(1.01)


def bucket_of(seconds: float) -> int:
    """The 1 %-wide bucket a duration falls in (0 for none or negative)."""
    return int(math.log1p(max(seconds, 0.0)) / _RATIO)


def seconds_of(bucket: int) -> float:
    """A bucket's middle, in seconds (within 0.5 % of every duration in it)."""
    return math.expm1((bucket + 0.5) * _RATIO)


@dataclass(frozen=True)
class Tallies:
    """The store's tallies for a window of days and a set of engagements, as `audit.metrics`
    reads them. Engagements are listed by name; an engagement with no items is left out."""

    counts: pd.DataFrame
    """day (date), engagement, metric, n: every count metric of the window's days."""
    cycles: pd.DataFrame
    """engagement, span, bucket, n: durations of the spans that ended in the window."""
    findings: pd.DataFrame
    """rule, severity, n: findings recorded in the window."""
    ends: pd.DataFrame
    """engagement, contract_end (date, NaT for none), n: renewals still to do, by their end
    (`schemas.work.STILL_TO_DO`)."""
    states: pd.DataFrame
    """engagement, state, failure_kind ('' for none), n: where every item is now."""
