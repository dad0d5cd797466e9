"""Managers' figures from the store's tallies (`schemas.figures`): throughput per day,
first-pass accuracy, findings by rule, cycle times, quoting lead and the unquoted backlog.

Pure: the caller passes the tallies of a window (`Store.tallies`; the web pages and the
report read them), a few thousand rows whatever the history's length. Cycle-time
percentiles come from 1 %-wide duration buckets: within 1 % of the exact figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from schemas.figures import FIRSTS, LEAD_DAYS, MOVED, SPANS, THROUGHPUT, Tallies, seconds_of

__all__ = [
    "ALL",
    "BACKLOG_BUCKETS",
    "LEAD_DAYS",
    "SPANS",
    "STATES",
    "THROUGHPUT",
    "Figures",
    "compute",
]

STATES = ("new", "priced", "entered", "verified", "flagged", "booked", "failed")
"""A work item's states, in the order of its journey (`schemas.work.ItemState`)."""
BACKLOG_BUCKETS = ("overdue", "0-30", "31-60", "61-90", "91-120", ">120", "no date")
_BACKLOG_EDGES = np.array([-0.5, 30.5, 60.5, 90.5, 120.5])
ALL = "all"


@dataclass(frozen=True)
class Figures:
    """What the dashboard and the report show, for one window of days."""

    since: date
    until: date
    today: date
    daily: pd.DataFrame
    """day, engagement, entered, verified, booked (days with no activity left out)."""
    per_engagement: pd.DataFrame
    """engagement (and 'all'): entered, verified, booked, checked, first_pass, first_pass_rate,
    quoted, quoted_early, early_share."""
    findings_by_rule: pd.DataFrame
    """rule, severity, findings."""
    cycle_times: pd.DataFrame
    """engagement (and 'all'), span: n, p50_hours, p90_hours."""
    backlog: pd.DataFrame
    """engagement (and 'all'), one column per BACKLOG_BUCKETS: renewals still to do
    (`schemas.work.STILL_TO_DO`)."""
    states: pd.DataFrame
    """engagement (and 'all'): items, one column per STATES, failed_business (bad data, with
    the audit team) and failed_system: where every work item is now, whatever the window."""


def compute(tallies: Tallies, *, since: date, until: date, today: date) -> Figures:
    """Every figure of the dashboard for the days `since`..`until` (inclusive, UTC), from the
    tallies of those days (`Store.tallies`)."""
    engagements = sorted(set(tallies.states["engagement"]))
    return Figures(
        since=since,
        until=until,
        today=today,
        daily=_daily(tallies.counts),
        per_engagement=_per_engagement(tallies.counts, engagements),
        findings_by_rule=_findings(tallies.findings),
        cycle_times=_cycle_times(tallies.cycles, engagements),
        backlog=_backlog(tallies.ends, engagements, today),
        states=_states(tallies.states, engagements),
    )


def _with_all(table: pd.DataFrame, engagements: list[str], columns: list[str]) -> pd.DataFrame:
    """One row per engagement (zeros where it has none) and a last row `all`, the sum."""
    table = table.reindex(index=engagements, columns=columns, fill_value=0).fillna(0)
    table = table.astype("int64")
    table.loc[ALL] = table.sum()
    return table.rename_axis("engagement").reset_index()


def _daily(counts: pd.DataFrame) -> pd.DataFrame:
    metrics = {MOVED[state]: state for state in THROUGHPUT}
    moved = counts[counts["metric"].isin(list(metrics))]
    table = moved.pivot_table(
        index=["day", "engagement"], columns="metric", values="n", aggfunc="sum", fill_value=0
    )
    table = table.reindex(columns=list(metrics), fill_value=0).rename(columns=metrics)
    table = table[table.sum(axis=1) > 0].astype("int64").reset_index()
    table.columns.name = None
    return table.sort_values(["day", "engagement"], ignore_index=True)


def _per_engagement(counts: pd.DataFrame, engagements: list[str]) -> pd.DataFrame:
    firsts = counts[counts["metric"].isin(list(FIRSTS))]
    sums = firsts.groupby(["engagement", "metric"])["n"].sum().unstack("metric")
    table = _with_all(sums, engagements, list(FIRSTS))
    table = table[["engagement", "entered", "verified", "booked", "checked", "first_pass",
                   "quoted", "quoted_early"]]  # fmt: skip
    table["first_pass_rate"] = table["first_pass"] / table["checked"].where(table["checked"] > 0)
    table["early_share"] = table["quoted_early"] / table["quoted"].where(table["quoted"] > 0)
    return table


def _findings(findings: pd.DataFrame) -> pd.DataFrame:
    table = findings.rename(columns={"n": "findings"})[["rule", "severity", "findings"]]
    table = table.astype({"rule": str, "severity": str, "findings": "int64"})
    return table.sort_values(["findings", "rule"], ascending=[False, True], ignore_index=True)


def _percentiles(buckets: pd.DataFrame) -> tuple[int, float, float]:
    """n, p50 and p90 hours of durations given as bucket counts (numpy's linear
    percentiles, as if each duration were its bucket's middle)."""
    n = int(buckets["n"].sum())
    if n == 0:
        return 0, float("nan"), float("nan")
    ordered = buckets.groupby("bucket")["n"].sum().sort_index()
    hours = np.array([seconds_of(int(b)) for b in ordered.index]) / 3600
    values = np.repeat(hours, ordered.to_numpy())
    p50, p90 = np.percentile(values, [50, 90])
    return n, float(p50), float(p90)


def _cycle_times(cycles: pd.DataFrame, engagements: list[str]) -> pd.DataFrame:
    rows = []
    for span in SPANS:
        of_span = cycles[cycles["span"] == span]
        for name in [*engagements, ALL]:
            chosen = of_span if name == ALL else of_span[of_span["engagement"] == name]
            rows.append((name, span, *_percentiles(chosen)))
    return pd.DataFrame(rows, columns=["engagement", "span", "n", "p50_hours", "p90_hours"])


def _backlog(ends: pd.DataFrame, engagements: list[str], today: date) -> pd.DataFrame:
    dated = ends["contract_end"].notna()
    days_left = (ends["contract_end"] - pd.Timestamp(today)).dt.days
    bucket = np.full(len(ends), len(BACKLOG_BUCKETS) - 1)
    bucket[dated.to_numpy()] = np.searchsorted(_BACKLOG_EDGES, days_left[dated].to_numpy())
    named = ends.assign(bucket=[BACKLOG_BUCKETS[b] for b in bucket])
    sums = named.groupby(["engagement", "bucket"])["n"].sum().unstack("bucket")
    return _with_all(sums, engagements, list(BACKLOG_BUCKETS))


def _states(states: pd.DataFrame, engagements: list[str]) -> pd.DataFrame:
    by_state = states.groupby(["engagement", "state"])["n"].sum().unstack("state")
    table = _with_all(by_state, engagements, list(STATES)).set_index("engagement")
    table.insert(0, "items", table[list(STATES)].sum(axis=1))
    business = states[(states["state"] == "failed") & (states["failure_kind"] == "business")]
    table["failed_business"] = business.groupby("engagement")["n"].sum()
    table["failed_business"] = table["failed_business"].fillna(0).astype("int64")
    table.loc[ALL, "failed_business"] = table.loc[engagements, "failed_business"].sum()
    table["failed_system"] = table["failed"] - table["failed_business"]
    return table.reset_index()
