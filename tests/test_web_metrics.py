"""The managers' figures on a handful of items whose answers are worked out by hand.

The items move through a real store (SQLite) on a clock the test sets, so the figures come
from the tallies the store keeps as they move, as the dashboard reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.metrics import compute
from schemas.work import FailureKind, ItemState
from store import Store, open_store

WINDOW = {"since": date(2026, 3, 1), "until": date(2026, 3, 5), "today": date(2026, 3, 10)}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: int, hour: int) -> None:
        self.now = datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'figures.sqlite'}", clock=clock) as store:
        for name in ("acme", "globex"):
            store.ensure_engagement(name, "acme", "http://127.0.0.1:8001")
        yield store


def _history(db: Store, clock: Clock) -> None:
    """Five renewals read on 03-01 10:00 and moved as the comments say."""
    ends = [date(2026, 9, 1), date(2026, 4, 1), date(2026, 12, 31), date(2026, 3, 20), None]
    names = ["acme", "acme", "globex", "globex", "acme"]
    ids = [
        db.ensure_item(name, f"OPP-{n}", contract_end=end, account_name=f"A{n}", data={}).id
        for n, (name, end) in enumerate(zip(names, ends, strict=True), start=1)
    ]
    one, two, three, _four, five = ids

    def move(item: int, to: ItemState, day: int, hour: int) -> None:
        clock.at(day, hour)
        db.transition(item, to)

    # 1: quoted 03-01 on a quote dated 03-01, passed at once, booked two days later.
    move(one, ItemState.PRICED, 1, 11)
    move(one, ItemState.ENTERED, 1, 12)
    db.record_quote(one, "Q-1", {}, {"quote_date": "2026-03-01"})
    move(one, ItemState.VERIFIED, 1, 13)
    move(one, ItemState.BOOKED, 3, 12)
    # 2: entered 03-02, flagged, then accepted: checked but not first pass.
    move(two, ItemState.PRICED, 2, 10)
    move(two, ItemState.ENTERED, 2, 14)
    db.record_quote(two, "Q-2", {}, {})
    move(two, ItemState.FLAGGED, 2, 15)
    db.record_findings(
        two,
        [
            {"rule": "unit_price_mismatch", "severity": "error", "message": "price"},
            {"rule": "late_quote", "severity": "warning", "message": "late"},
        ],
    )
    db.review(two, "auditor", "accept", "within tolerance")
    # the review ran at 03-02 15:00; its move to verified counts on that day too
    # 3: priced 03-01, a system error's retry (no move), entered after the window.
    move(three, ItemState.PRICED, 1, 11)
    clock.at(2, 9)
    db.retry_later(three, code="timeout", reason="portal slow", delay=timedelta(hours=1))
    move(three, ItemState.ENTERED, 9, 10)
    # 4: still new.  5: failed on bad data.
    clock.at(1, 11)
    db.fail(five, FailureKind.BUSINESS, "unknown SKU", code="unknown_sku")


def test_figures_for_a_window_match_the_hand_worked_answers(db: Store, clock: Clock) -> None:
    _history(db, clock)
    figures = compute(db.tallies(WINDOW["since"], WINDOW["until"]), **WINDOW)
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
    assert daily["entered"].sum() == 2  # item 3's retry attempt is not a move
    findings = figures.findings_by_rule.set_index("rule")
    assert findings["findings"].to_dict() == {"late_quote": 1, "unit_price_mismatch": 1}
    cycle = figures.cycle_times.set_index(["engagement", "span"])
    assert cycle.loc[("all", "read_to_entered"), "n"] == 2
    # read → entered: 2 h (item 1) and 28 h (item 2); the buckets are 1 % wide
    assert cycle.loc[("all", "read_to_entered"), "p50_hours"] == pytest.approx(15, rel=0.01)
    assert cycle.loc[("acme", "quote_to_booked"), "p90_hours"] == pytest.approx(48, rel=0.01)
    assert cycle.loc[("globex", "read_to_entered"), "n"] == 0  # item 3 entered after
    backlog = figures.backlog.set_index("engagement")
    # item 4 (new) ends in 10 days; item 5 failed with no date; item 3 was entered (later)
    assert backlog.loc["globex", "0-30"] == 1
    assert backlog.loc["acme", "no date"] == 1
    assert backlog.loc["all"].sum() == 2
    states = figures.states.set_index("engagement")
    assert states.loc["all", ["items", "booked", "verified", "entered", "new"]].tolist() == [
        5, 1, 1, 1, 1
    ]  # fmt: skip
    assert states.loc["acme", ["failed", "failed_business", "failed_system"]].tolist() == [1, 1, 0]


def test_one_engagements_figures_leave_the_others_out(db: Store, clock: Clock) -> None:
    _history(db, clock)
    figures = compute(db.tallies(WINDOW["since"], WINDOW["until"], "globex"), **WINDOW)
    assert figures.per_engagement["engagement"].tolist() == ["globex", "all"]
    assert figures.findings_by_rule.empty  # both findings are acme's
    assert figures.states.set_index("engagement").loc["all", "items"] == 2


def test_the_tallies_kept_as_items_move_equal_a_recount_of_the_history(
    db: Store, clock: Clock
) -> None:
    _history(db, clock)
    kept = _tables(db)
    assert kept["tally_counts"] and kept["tally_states"] and kept["tally_cycles"]
    assert db.rebuild_tallies() == 5
    assert _tables(db) == kept


def test_a_store_with_history_but_no_tallies_recounts_them_when_opened(
    db: Store, clock: Clock, tmp_path: Path
) -> None:
    _history(db, clock)
    kept = _tables(db)
    with db.engine.begin() as connection:  # as a store that came to migration 0009 with data
        for table in ("tally_counts", "tally_cycles", "tally_states"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(text("UPDATE work_items SET entered_at = NULL, checked_at = NULL"))
    with open_store(f"sqlite:///{tmp_path / 'figures.sqlite'}", clock=clock) as reopened:
        assert _tables(reopened) == kept


def test_an_empty_store_gives_empty_figures(db: Store) -> None:
    figures = compute(db.tallies(WINDOW["since"], WINDOW["until"]), **WINDOW)
    assert figures.per_engagement.set_index("engagement").loc["all", "entered"] == 0
    assert figures.daily.empty and figures.findings_by_rule.empty
    assert figures.cycle_times["n"].sum() == 0


def _tables(db: Store) -> dict[str, list[tuple[object, ...]]]:
    with db.engine.connect() as connection:
        found = {
            table: sorted(tuple(r) for r in connection.execute(text(f"SELECT * FROM {table}")))
            for table in ("tally_counts", "tally_cycles", "tally_states")
        }
        found["tally_states"] = [r for r in found["tally_states"] if r[-1]]  # zeros: gone
        milestones = "id, entered_at, verified_at, booked_at, checked_at"
        found["work_items"] = sorted(
            tuple(r) for r in connection.execute(text(f"SELECT {milestones} FROM work_items"))
        )
    return found
