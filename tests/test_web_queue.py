"""The review queue read a page at a time from the store, on SQLite and PostgreSQL: every
filter and page the SQL returns is what the items' own records say it must be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from schemas.work import ItemState, WorkItem
from store import QueueFilter, Store, open_store

ENGAGEMENTS = ("acme", "globex", "initech")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queued(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """400 renewals of a synthetic history (about 30 in the queue), two of them escalated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('queue') / 'quotebot.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    with open_store(url) as store:
        store.fill_synthetic(ENGAGEMENTS, 400, until=date(2026, 12, 1), days=60, seed=7)
        yield store


def _reference(store: Store, where: QueueFilter) -> list[int]:
    """The queue as the items' records say it is: in it, by when they came, filtered."""
    rows: list[tuple[WorkItem, set[str], str, bool]] = []
    for item in store.items():
        business = item.state is ItemState.FAILED and item.failure_kind == "business"
        if item.state is not ItemState.FLAGGED and not business:
            continue
        findings = store.findings(item.id)
        rules = {f.rule for f in findings} or {item.failure_code or "business"}
        errors = any(f.severity == "error" for f in findings)
        severity = "business" if business else "error" if errors else "warning"
        reviews = [r for r in store.reviews(item.id) if r.revision == item.revision]
        escalated = bool(reviews) and reviews[-1].action == "escalate"
        rows.append((item, rules, severity, escalated))
    return [
        item.id
        for item, rules, severity, escalated in sorted(
            rows, key=lambda r: (r[0].queued_at, r[0].id)
        )
        if (where.within is None or item.engagement in where.within)
        and (not where.rule or where.rule in rules)
        and (not where.severity or where.severity == severity)
        and (where.waiting_since is None or item.queued_at <= where.waiting_since)  # type: ignore[operator]
        and (where.escalated is None or where.escalated == escalated)
    ]


def test_every_filter_and_page_of_the_queue_is_what_the_records_say(queued: Store) -> None:
    store = queued
    first, second, *_ = store.review_queue()
    for item in (first, second):
        store.review(item.id, "ana", "escalate", "needs the account manager")
    assert [i.id for i in store.review_queue()][:2] == [first.id, second.id]  # kept their place
    middle = store.review_queue()[10].queued_at
    filters = [
        QueueFilter(),
        QueueFilter(within=["acme", "initech"]),
        QueueFilter(within=[]),
        QueueFilter(rule="unit_price"),
        QueueFilter(rule="unknown_sku", within=["globex"]),
        QueueFilter(severity="warning"),
        QueueFilter(severity="error"),
        QueueFilter(severity="business"),
        QueueFilter(escalated=True),
        QueueFilter(escalated=False),
        QueueFilter(waiting_since=middle),
    ]
    for where in filters:
        expected = _reference(store, where)
        pages = [store.review_queue(where=where, limit=7, offset=o) for o in range(0, 70, 7)]
        assert [i.id for page in pages for i in page] == expected, where
        assert store.review_queue_count(where) == len(expected), where
    assert {i for i in _reference(store, QueueFilter(escalated=True))} == {first.id, second.id}
    assert store.next_in_queue(first.id) == _reference(store, QueueFilter(escalated=False))[0]
    assert store.is_escalated([first.id, second.id, store.review_queue()[2].id]) == {
        first.id: True,
        second.id: True,
        store.review_queue()[2].id: False,
    }
    # The rules to filter by: every rule of a queued item, and bad data by its code.
    assert store.review_rules() == sorted(
        {
            r
            for i in store.review_queue()
            for r in ({f.rule for f in store.findings(i.id)} or {i.failure_code})
        }
    )


def test_an_item_leaves_the_queue_when_decided_and_keeps_its_place_when_escalated(
    queued: Store,
) -> None:
    store = queued
    item = next(i for i in store.review_queue() if i.state is ItemState.FLAGGED)
    since = item.queued_at
    store.review(item.id, "ana", "escalate", "ask the client")
    assert store.item(item.id).queued_at == since
    store.review(item.id, "ana", "accept", "client agreed", reason="Approved exception")
    assert store.item(item.id).queued_at is None
    assert item.id not in {i.id for i in store.review_queue()}
    assert since is not None and since <= store.now() + timedelta(days=1)


def test_the_items_workers_hold_now_are_read_from_their_leases(queued: Store) -> None:
    """What a running run's page shows in hand, from the few claimed among many items."""
    store = queued
    taken = store.claim("acme", [ItemState.NEW], "host:1", lease_seconds=600)
    brief = store.claim("acme", [ItemState.NEW], "host:2", lease_seconds=-1)  # ran out
    assert taken is not None and brief is not None
    assert [(i.id, i.claimed_by) for i in store.held("acme")] == [(taken.id, "host:1")]
    assert store.held("globex") == []
