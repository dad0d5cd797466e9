"""End to end: the bots quote and book every due renewal of a sandbox portal, exactly once,
and the audit flags exactly the planted pricing anomalies."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from bot_helpers import due_ids, engagement_for
from sandbox_helpers import RunningPortal, running_portal

from bots import RunOptions, run_engagement
from schemas.settings import Settings
from schemas.work import FailureKind, ItemState
from store import Store, open_store

PRICING_ANOMALIES = {"portal_reprices_line", "portal_term_end_off_by_one"}
BUSINESS_ANOMALIES = {
    "inactive_sku_in_install_base": {"inactive_sku"},
    "missing_contract_end": {"missing_contract_end"},
}


@pytest.fixture(params=["acme", "globex"])
def portal(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    with running_portal(tmp_path / "portal", request.param, opportunities=12) as running:
        yield running


def test_every_due_renewal_is_quoted_once_audited_and_booked(
    portal: RunningPortal, tmp_path: Path
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
        _quote_and_book(portal, store, tmp_path)


@pytest.mark.postgres
def test_the_same_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    with running_portal(tmp_path / "portal", "acme", opportunities=12) as portal:
        with open_store(pg_url) as store:
            _quote_and_book(portal, store, tmp_path)


def _quote_and_book(portal: RunningPortal, store: Store, tmp_path: Path) -> None:
    engagement = engagement_for(portal)
    settings = Settings(home=tmp_path / "home")
    options = RunOptions(today=portal.config.today, progress=False)

    quoting = run_engagement(engagement, "quote", store, settings=settings, options=options)
    assert quoting.drift is None
    due = due_ids(portal, engagement)
    items = {i.opportunity_id: i for i in store.items(engagement.name)}
    assert set(items) == due, "every due renewal has a work item, and nothing else"

    planted: dict[str, set[str]] = {}
    for anomaly in portal.ground_truth["anomalies"]:
        planted.setdefault(anomaly["opportunity_id"], set()).add(anomaly["kind"])
    business = {o for o, kinds in planted.items() if kinds & set(BUSINESS_ANOMALIES)} & due
    pricing = {o for o, kinds in planted.items() if kinds & PRICING_ANOMALIES} & due
    assert business and pricing, "the seed plants both kinds in the window"

    with portal.open_db() as db:
        for opportunity_id, item in items.items():
            quotes = db.find_quotes(opportunity_id=opportunity_id)
            if opportunity_id in business:
                assert item.state is ItemState.FAILED
                assert item.failure_kind is FailureKind.BUSINESS
                expected_codes = set().union(
                    *(
                        BUSINESS_ANOMALIES[k]
                        for k in planted[opportunity_id]
                        if k in BUSINESS_ANOMALIES
                    )
                )
                assert item.failure_code in expected_codes
                assert quotes == [], "nothing is entered for bad data"
                continue
            assert [q.external_ref for q in quotes] == [item.reference], "exactly one quote"
            assert quotes[0].status == "submitted"
            assert item.quote_number == quotes[0].quote_number

    flagged = {o for o, i in items.items() if i.state is ItemState.FLAGGED}
    assert flagged == pricing, "every planted pricing anomaly is flagged, nothing else is"
    for opportunity_id in flagged:
        expected_rules = {
            rule
            for a in portal.ground_truth["anomalies"]
            if a["opportunity_id"] == opportunity_id and a["kind"] in PRICING_ANOMALIES
            for rule in a["consequence"]["findings"]
        }
        found = {f.rule for f in store.findings(items[opportunity_id].id) if f.severity == "error"}
        assert found == expected_rules, opportunity_id
    verified = {o for o, i in items.items() if i.state is ItemState.VERIFIED}
    assert verified == due - business - pricing

    booking = run_engagement(engagement, "booking", store, settings=settings, options=options)
    assert booking.drift is None
    _assert_booked_once(portal, store, engagement.name, verified)


def _assert_booked_once(
    portal: RunningPortal, store: Store, engagement: str, verified: set[str]
) -> None:
    items = {i.opportunity_id: i for i in store.items(engagement)}
    with portal.open_db() as db:
        orders = Counter(row.split(",")[0] for row in db.bookings_csv().splitlines()[1:])
        accepted = 0
        for opportunity_id in verified:
            quote = db.get_quote(items[opportunity_id].quote_number or "")
            if quote.customer_po is None:
                assert items[opportunity_id].state is ItemState.VERIFIED
                continue
            accepted += 1
            assert orders[quote.quote_number] == 1, f"{quote.quote_number} booked once"
            assert quote.order_number == items[opportunity_id].order_number
            assert items[opportunity_id].state is ItemState.BOOKED
    assert accepted > 0
    assert sum(orders.values()) == accepted
