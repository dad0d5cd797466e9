"""End to end: the bots quote and book every due renewal of a sandbox portal, exactly once,
and the audit flags exactly the planted pricing anomalies."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from bot_helpers import assert_refused, due_ids, engagement_for
from sandbox_helpers import RunningPortal, running_portal

from audit.pricing import renewal_term
from bots import RunOptions, run_engagement
from sandbox.portal import Portal, Quote
from schemas.settings import Settings
from schemas.work import ItemState
from store import Store, open_store

BUSINESS_ANOMALIES = {
    "inactive_sku_in_install_base": {"inactive_sku"},
    "missing_contract_end": {"missing_contract_end"},
}
RENEWAL_ANOMALIES = {"coterm_line", "do_not_renew_line"}


# Globex's portal prorates by whole started months, the rules by months and days: its
# co-termed lines are planted findings; acme's portal charges as the rules do.
@pytest.fixture(params=[("acme", None), ("globex", "month")], ids=["acme", "globex"])
def portal(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    flavour, proration = request.param
    with running_portal(
        tmp_path / "portal", flavour, opportunities=12, portal_proration=proration
    ) as running:
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
    promised = _promised_findings(portal)
    pricing = {o for o, rules in promised.items() if rules} & due - business
    assert business and pricing, "the seed plants both kinds in the window"
    renewals = {o for o, kinds in planted.items() if kinds & RENEWAL_ANOMALIES} & due
    assert renewals, "co-termed and do-not-renew lines in the window"
    truth = portal.ground_truth
    if truth["portal_proration"] != truth["proration"]:
        assert any("line_amount_mismatch" in promised[o] for o in pricing), "prorated lines due"

    with portal.open_db() as db:
        for opportunity_id, item in items.items():
            quotes = db.find_quotes(opportunity_id=opportunity_id)
            if opportunity_id in business:
                kinds = planted[opportunity_id] & set(BUSINESS_ANOMALIES)
                assert_refused(item, quotes, set().union(*(BUSINESS_ANOMALIES[k] for k in kinds)))
                continue
            assert [q.external_ref for q in quotes] == [item.reference], "exactly one quote"
            assert quotes[0].status == "submitted"
            assert item.quote_number == quotes[0].quote_number
            _assert_renewal_lines(db, opportunity_id, quotes[0])

    flagged = {o for o, i in items.items() if i.state is ItemState.FLAGGED}
    assert flagged == pricing, "every planted pricing anomaly is flagged, nothing else is"
    for opportunity_id in flagged:
        found = {f.rule for f in store.findings(items[opportunity_id].id) if f.severity == "error"}
        assert found == promised[opportunity_id], opportunity_id
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


def _promised_findings(portal: RunningPortal) -> dict[str, set[str]]:
    """Per opportunity, the error findings its planted anomalies promise."""
    promised: dict[str, set[str]] = {}
    for anomaly in portal.ground_truth["anomalies"]:
        rules = promised.setdefault(anomaly["opportunity_id"], set())
        rules.update(anomaly["consequence"]["findings"])
    return promised


def _assert_renewal_lines(db: Portal, opportunity_id: str, quote: Quote) -> None:
    """Do-not-renew lines are not quoted; co-termed lines run from the day after their own
    end to the term's end; every other line runs the whole term."""
    opportunity = db.get_opportunity(opportunity_id)
    renewed = [line for line in opportunity.lines if line.renew]
    assert [line.sku for line in quote.lines] == [line.sku for line in renewed]
    assert opportunity.contract_end is not None
    _, term_end = renewal_term(opportunity.contract_end, opportunity.renewal_term_months)
    for wanted, line in zip(renewed, quote.lines, strict=True):
        ends = wanted.line_end or opportunity.contract_end
        assert (line.line_start, line.line_end) == (ends + timedelta(days=1), term_end), line.sku
