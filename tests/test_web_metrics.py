"""The managers' figures on a handful of items whose answers are worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from audit.metrics import compute

T = "2026-03-0{}T{}:00:00Z"


def _frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "engagement": ["acme", "acme", "globex", "globex", "acme"],
            "state": ["booked", "verified", "flagged", "new", "failed"],
            "contract_end": pd.to_datetime(
                ["2026-09-01", "2026-04-01", "2026-12-31", "2026-03-20", None]
            ),
            "quote_date": pd.to_datetime(["2026-03-01", None, None, None, None]),
        }
    )
    rows = [
        (1, None, "new", T.format(1, 10)),
        (1, "new", "priced", T.format(1, 11)),
        (1, "priced", "entered", T.format(1, 12)),
        (1, "entered", "verified", T.format(1, 13)),
        (1, "verified", "booked", T.format(3, 12)),
        (2, None, "new", T.format(1, 10)),
        (2, "new", "priced", T.format(2, 10)),
        (2, "priced", "entered", T.format(2, 14)),
        (2, "entered", "flagged", T.format(2, 15)),
        (2, "flagged", "verified", T.format(2, 18)),  # accepted: not first-pass
        (3, None, "new", T.format(1, 10)),
        (3, "new", "priced", T.format(1, 11)),
        (3, "priced", "entered", T.format(9, 10)),  # after the window
        (4, None, "new", T.format(1, 10)),
        (5, None, "new", T.format(1, 10)),
        (5, "new", "failed", T.format(1, 11)),
    ]
    events = pd.DataFrame(rows, columns=["item_id", "from_state", "to_state", "at"])
    events["at"] = pd.to_datetime(events["at"], utc=True)
    findings = pd.DataFrame(
        {
            "item_id": [2, 2],
            "rule": ["unit_price_mismatch", "late_quote"],
            "severity": ["error", "warning"],
            "recorded_at": pd.to_datetime([T.format(2, 15)] * 2, utc=True),
        }
    )
    return items, events, findings


def test_figures_for_a_window_match_the_hand_worked_answers() -> None:
    figures = compute(
        *_frames(), since=date(2026, 3, 1), until=date(2026, 3, 5), today=date(2026, 3, 10)
    )
    per = figures.per_engagement.set_index("engagement")
    assert per.loc["all", ["entered", "verified", "booked"]].tolist() == [2, 2, 1]
    assert per.loc["all", ["checked", "first_pass"]].tolist() == [2, 1]
    assert per.loc["all", "first_pass_rate"] == 0.5
    # item 1: quote dated 03-01, ends 09-01: 184 days; item 2: entered 03-02, ends 04-01: 30
    assert per.loc["acme", ["quoted", "quoted_early"]].tolist() == [2, 1]
    assert per.loc["globex", "entered"] == 0
    daily = figures.daily.set_index(["day", "engagement"])
    assert daily.loc[(date(2026, 3, 2), "acme"), "verified"] == 1
    assert daily.loc[(date(2026, 3, 3), "acme"), "booked"] == 1
    assert figures.findings_by_rule["findings"].sum() == 2
    cycle = figures.cycle_times.set_index(["engagement", "span"])
    assert cycle.loc[("all", "read_to_entered"), "n"] == 2
    assert cycle.loc[("all", "read_to_entered"), "p50_hours"] == pytest.approx((2 + 28) / 2)
    assert cycle.loc[("acme", "quote_to_booked"), "p90_hours"] == pytest.approx(48)
    backlog = figures.backlog.set_index("engagement")
    # item 4 (new) ends in 10 days; item 5 failed with no date; item 3 was entered (later)
    assert backlog.loc["globex", "0-30"] == 1
    assert backlog.loc["acme", "no date"] == 1
    assert backlog.loc["all"].sum() == 2


def test_an_empty_store_gives_empty_figures() -> None:
    items, events, findings = (frame.iloc[0:0] for frame in _frames())
    figures = compute(
        items,
        events,
        findings,
        since=date(2026, 3, 1),
        until=date(2026, 3, 5),
        today=date(2026, 3, 10),
    )
    assert figures.per_engagement.set_index("engagement").loc["all", "entered"] == 0
    assert figures.daily.empty and figures.findings_by_rule.empty
