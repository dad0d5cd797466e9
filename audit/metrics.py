"""Managers' figures from work items and their state changes: throughput per day, first-pass
accuracy, findings by rule, cycle times, quoting lead and the unquoted backlog.

Pure and vectorised: the caller passes DataFrames (the web pages and the report load them
from the store), so a million items and their events take well under two seconds.

items:    id (int), engagement (str/category), state (str/category), contract_end (datetime64),
          quote_date (datetime64, optional: the date on the quote entered; else the day the
          quote was entered is its date), failure_kind (str, optional: business | system for
          a failed item)
events:   item_id (int), from_state, to_state (str/category, from_state null on creation),
          at (datetime64, UTC), in the order they happened
findings: item_id (int), rule, severity (str), recorded_at (datetime64, UTC)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from schemas.work import STILL_TO_DO_STATES

LEAD_DAYS = 120
"""AUDIT_SPEC's lead: a renewal should be quoted at least this many days before it ends."""
THROUGHPUT = ("entered", "verified", "booked")
SPANS = {
    "read_to_entered": ("read", "entered"),
    "entered_to_verified": ("entered", "verified"),
    "quote_to_booked": ("entered", "booked"),
}
STATES = ("new", "priced", "entered", "verified", "flagged", "booked", "failed")
"""A work item's states, in the order of its journey (`schemas.work.ItemState`)."""
BACKLOG_BUCKETS = ("overdue", "0-30", "31-60", "61-90", "91-120", ">120", "no date")
_BACKLOG_EDGES = np.array([-np.inf, -0.5, 30.5, 60.5, 90.5, 120.5, np.inf])
_NOT_QUOTED = tuple(s.value for s in STILL_TO_DO_STATES)
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


DAY_NS = 86_400 * 10**9


def _window(since: date, until: date) -> tuple[int, int]:
    """[since 00:00, until+1 00:00) UTC as int64 nanoseconds."""
    start = pd.Timestamp(since, tz="UTC").value
    return start, pd.Timestamp(until + timedelta(days=1), tz="UTC").value


NAT = np.iinfo(np.int64).min


def _ns(column: pd.Series) -> np.ndarray:
    """Timestamps as int64 nanoseconds since the epoch, UTC (NaT as NAT)."""
    values = column if isinstance(column.dtype, pd.DatetimeTZDtype) else pd.to_datetime(column)
    return np.asarray(values.array.as_unit("ns").asi8)


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Small integer codes and their labels (engagements and states are few)."""
    categorical = column.astype("category") if column.dtype != "category" else column
    labels = [str(c) for c in categorical.cat.categories]
    return np.asarray(categorical.cat.codes, dtype=np.int64), labels


def _positions(item_ids: np.ndarray, event_item_ids: np.ndarray) -> np.ndarray:
    """Each event's row in `items` (store ids are small positive integers: a lookup table)."""
    item_ids = np.asarray(item_ids, dtype=np.int64)
    lookup = np.full(int(item_ids.max(initial=0)) + 1, -1, dtype=np.int64)
    lookup[item_ids] = np.arange(len(item_ids))
    return lookup[np.asarray(event_item_ids, dtype=np.int64)]


def _first(positions: np.ndarray, at: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Per item, the time of the first event matching `mask` (NAT if none).

    Events are in time order: written in reverse, each item's earliest event is written
    last and stays (numpy assigns repeated indices in order).
    """
    out = np.full(n, NAT, dtype=np.int64)
    out[positions[mask][::-1]] = at[mask][::-1]
    return out


@dataclass(frozen=True)
class _Milestones:
    """Per item (int64 ns, NAT for never): read, first entered, verified, booked, checked."""

    engagement: np.ndarray
    engagements: list[str]
    read: np.ndarray
    entered: np.ndarray
    verified: np.ndarray
    booked: np.ndarray
    checked: np.ndarray
    first_pass: np.ndarray
    contract_end: np.ndarray
    quote_date: np.ndarray
    not_quoted: np.ndarray


def _state_is(codes: np.ndarray, labels: list[str], *states: str) -> np.ndarray:
    wanted = [i for i, label in enumerate(labels) if label in states]
    if len(wanted) == 1:
        return codes == wanted[0]
    return np.isin(codes, wanted)


@dataclass(frozen=True)
class _Events:
    """The events as plain arrays, converted once."""

    at: np.ndarray
    to: np.ndarray
    to_labels: list[str]
    came: np.ndarray
    came_labels: list[str]
    positions: np.ndarray

    @classmethod
    def of(cls, items: pd.DataFrame, events: pd.DataFrame) -> _Events:
        to, to_labels = _codes(events["to_state"])
        came, came_labels = _codes(events["from_state"])
        positions = _positions(items["id"].to_numpy(), events["item_id"].to_numpy())
        return cls(_ns(events["at"]), to, to_labels, came, came_labels, positions)


def _milestones(items: pd.DataFrame, e: _Events) -> _Milestones:
    n = len(items)
    at, positions = e.at, e.positions
    to, to_labels, came, came_labels = e.to, e.to_labels, e.came, e.came_labels
    check = _state_is(came, came_labels, "entered") & _state_is(
        to, to_labels, "verified", "flagged"
    )
    checked = _first(positions, at, check, n)
    passed = _first(positions, at, check & _state_is(to, to_labels, "verified"), n)
    engagement, engagements = _codes(items["engagement"])
    state, state_labels = _codes(items["state"])

    def first(*states: str) -> np.ndarray:
        return _first(positions, at, _state_is(to, to_labels, *states), n)

    return _Milestones(
        engagement=engagement,
        engagements=engagements,
        read=_first(positions, at, _state_is(to, to_labels, "new") & (came == -1), n),
        entered=first("entered"),
        verified=first("verified"),
        booked=first("booked"),
        checked=checked,
        first_pass=(passed != NAT) & (passed == checked),
        contract_end=_ns(items["contract_end"]),
        quote_date=_ns(items["quote_date"]) if "quote_date" in items else np.full(n, NAT),
        not_quoted=_state_is(state, state_labels, *_NOT_QUOTED),
    )


def _in(when: np.ndarray, start: int, end: int) -> np.ndarray:
    return (when >= start) & (when < end)  # NAT is below every start


def compute(
    items: pd.DataFrame,
    events: pd.DataFrame,
    findings: pd.DataFrame,
    *,
    since: date,
    until: date,
    today: date,
) -> Figures:
    """Every figure of the dashboard for the days `since`..`until` (inclusive, UTC)."""
    start, end = _window(since, until)
    e = _Events.of(items, events)
    m = _milestones(items, e)
    return Figures(
        since=since,
        until=until,
        today=today,
        daily=_daily(m, e, start, end),
        per_engagement=_per_engagement(m, start, end),
        findings_by_rule=_findings(findings, start, end),
        cycle_times=_cycle_times(m, start, end),
        backlog=_backlog(m, today),
        states=_states(items),
    )


def _daily(m: _Milestones, e: _Events, start: int, end: int) -> pd.DataFrame:
    window = _in(e.at, start, end)
    columns = []
    for state in THROUGHPUT:
        shown = window & _state_is(e.to, e.to_labels, state)
        days = e.at[shown] // DAY_NS - start // DAY_NS
        key = m.engagement[e.positions[shown]] * 100_000 + days
        counts = pd.Series(np.bincount(key) if len(key) else np.zeros(0, np.int64))
        columns.append(counts.rename(state))
    table = pd.concat(columns, axis=1).fillna(0).astype("int64")
    table = table[table.sum(axis=1) > 0]
    keys = table.index.to_numpy()
    first_day = date(1970, 1, 1) + timedelta(days=start // DAY_NS)
    table.insert(0, "engagement", [m.engagements[k // 100_000] for k in keys])
    table.insert(0, "day", [first_day + timedelta(days=int(k % 100_000)) for k in keys])
    return table.sort_values(["day", "engagement"], ignore_index=True)


def _per_engagement(m: _Milestones, start: int, end: int) -> pd.DataFrame:
    entered_in = _in(m.entered, start, end)
    dated = entered_in & (m.contract_end != NAT)
    quoted_on = np.where(m.quote_date != NAT, m.quote_date, (m.entered // DAY_NS) * DAY_NS)
    lead_days = np.where(dated, (m.contract_end - quoted_on) // DAY_NS, -1)
    checked = _in(m.checked, start, end)
    flags = {
        "entered": entered_in,
        "verified": _in(m.verified, start, end),
        "booked": _in(m.booked, start, end),
        "checked": checked,
        "first_pass": checked & m.first_pass,
        "quoted": dated,
        "quoted_early": dated & (lead_days >= LEAD_DAYS),
    }
    k = len(m.engagements)
    table = pd.DataFrame(
        {name: np.bincount(m.engagement[flag], minlength=k) for name, flag in flags.items()}
    )
    table.loc[k] = table.sum()
    table.insert(0, "engagement", [*m.engagements, ALL])
    table = table.astype({name: "int64" for name in flags})
    table["first_pass_rate"] = table["first_pass"] / table["checked"].where(table["checked"] > 0)
    table["early_share"] = table["quoted_early"] / table["quoted"].where(table["quoted"] > 0)
    return table


def _findings(findings: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    shown = findings[_in(_ns(findings["recorded_at"]), start, end)]
    table = (
        shown.groupby(["rule", "severity"], observed=True).size().rename("findings").reset_index()
    )
    table = table.astype({"rule": str, "severity": str})
    return table.sort_values(["findings", "rule"], ascending=[False, True], ignore_index=True)


def _cycle_times(m: _Milestones, start: int, end: int) -> pd.DataFrame:
    rows = []
    for span, (a, b) in SPANS.items():
        began, done = getattr(m, a), getattr(m, b)
        keep = _in(done, start, end) & (began != NAT)
        hours = (done[keep] - began[keep]) / 3.6e12
        engagement = m.engagement[keep]
        groups = [(name, hours[engagement == code]) for code, name in enumerate(m.engagements)]
        for name, values in [*groups, (ALL, hours)]:
            p50, p90 = np.percentile(values, [50, 90]) if len(values) else (np.nan, np.nan)
            rows.append((name, span, len(values), float(p50), float(p90)))
    return pd.DataFrame(rows, columns=["engagement", "span", "n", "p50_hours", "p90_hours"])


def _backlog(m: _Milestones, today: date) -> pd.DataFrame:
    waiting = (m.entered == NAT) & m.not_quoted
    ends = m.contract_end[waiting]
    dated = ends != NAT
    days_left = (ends[dated] - pd.Timestamp(today, tz="UTC").value) // DAY_NS
    bucket = np.full(len(ends), len(BACKLOG_BUCKETS) - 1)
    bucket[dated] = np.searchsorted(_BACKLOG_EDGES[1:-1], days_left)
    k, b = len(m.engagements), len(BACKLOG_BUCKETS)
    counts = np.bincount(m.engagement[waiting] * b + bucket, minlength=k * b).reshape(k, b)
    table = pd.DataFrame(counts, columns=list(BACKLOG_BUCKETS))
    table.loc[k] = table.sum()
    table.insert(0, "engagement", [*m.engagements, ALL])
    return table


def _states(items: pd.DataFrame) -> pd.DataFrame:
    engagement, engagements = _codes(items["engagement"])
    state, labels = _codes(items["state"])
    k = len(engagements)
    table = pd.DataFrame({"items": np.bincount(engagement, minlength=k)})
    for name in STATES:
        table[name] = np.bincount(engagement[_state_is(state, labels, name)], minlength=k)
    failed = _state_is(state, labels, "failed")
    kinds = items["failure_kind"] if "failure_kind" in items else pd.Series([None] * len(items))
    business = failed & (kinds.to_numpy() == "business")
    table["failed_business"] = np.bincount(engagement[business], minlength=k)
    table["failed_system"] = table["failed"] - table["failed_business"]
    table.loc[k] = table.sum()
    table.insert(0, "engagement", [*engagements, ALL])
    return table.astype({c: "int64" for c in table.columns if c != "engagement"})
