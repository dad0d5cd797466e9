"""A misbehaving portal (5% 503s, ~300 ms latency, 20 s sessions) slows the bots down but
loses nothing and duplicates nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from bot_helpers import due_ids, engagement_for
from loguru import logger
from sandbox_helpers import running_portal

from bots import RunOptions, run_engagement
from sandbox.config import FaultConfig
from schemas.settings import Settings
from schemas.work import FailureKind, ItemState
from store import Store


@pytest.mark.slow
def test_faulty_portal_every_item_processed_no_duplicates(
    tmp_path: Path, quotebot_store: Store
) -> None:
    faults = FaultConfig(latency_ms=(250, 350), error_rate=0.05, session_lifetime=20, seed=3)
    messages: list[str] = []
    sink = logger.add(lambda m: messages.append(m.record["message"]), level="INFO")
    try:
        with running_portal(tmp_path / "portal", "acme", opportunities=8, faults=faults) as portal:
            engagement = engagement_for(portal, workers=2, max_attempts=10)
            store = quotebot_store
            options = RunOptions(today=portal.config.today, progress=False, backoff_s=0.5)
            settings = Settings(home=tmp_path / "home")
            for kind in ("quote", "booking"):
                result = run_engagement(engagement, kind, store, settings=settings, options=options)
                assert result.drift is None
            stats = portal.server.app.state.fault_stats
            items = {i.opportunity_id: i for i in store.items(engagement.name)}
            assert set(items) == due_ids(portal, engagement)
            with portal.open_db() as db:
                orders = Counter(r.split(",")[0] for r in db.bookings_csv().splitlines()[1:])
                for opportunity_id, item in items.items():
                    quotes = db.find_quotes(opportunity_id=opportunity_id)
                    if item.state is ItemState.FAILED:
                        assert item.failure_kind is FailureKind.BUSINESS, item.failure_reason
                        assert quotes == []
                        continue
                    assert item.state in {ItemState.VERIFIED, ItemState.FLAGGED, ItemState.BOOKED}
                    assert [q.external_ref for q in quotes] == [item.reference]
                    if quotes[0].customer_po and item.state is not ItemState.FLAGGED:
                        assert item.state is ItemState.BOOKED
                assert all(n == 1 for n in orders.values()), orders
    finally:
        logger.remove(sink)
    # The faults really happened, at about the configured rate, and sessions really ended
    # (each run lasts longer than a session, however fast the machine).
    assert stats.errors > 0
    assert 0.01 < stats.errors / stats.requests < 0.12, (stats.errors, stats.requests)
    logins = sum(1 for m in messages if m == "logged in")
    assert logins > 2 + 2, "sessions ended mid-run and the bots logged in again"
    # The workers learned how long the portal's sessions last (and log in afresh before an
    # item that the rest of a session might not see through).
    assert any(m.startswith("the portal ended a session") for m in messages)


def test_a_late_default_price_never_replaces_the_typed_one(
    tmp_path: Path, quotebot_store: Store
) -> None:
    """The acme editor pre-fills a chosen SKU's default price 0.6 s after it arrives: a bot
    that types its own price before then sees the portal's overwrite it, and the audit flags
    a unit price nobody meant. Every quote must carry the prices the bot priced."""
    faults = FaultConfig(slow_default_price_ms=600)
    with running_portal(tmp_path / "portal", "acme", opportunities=10, faults=faults) as portal:
        engagement = engagement_for(portal)
        options = RunOptions(today=portal.config.today, progress=False)
        settings = Settings(home=tmp_path / "home")
        result = run_engagement(
            engagement, "quote", quotebot_store, settings=settings, options=options
        )
        assert result.drift is None
        repriced = {
            a["opportunity_id"]
            for a in portal.ground_truth["anomalies"]
            if a["consequence"]["findings"]
        }
        items = quotebot_store.items(engagement.name)
        quoted = [i for i in items if i.quote_number is not None]
        assert len(quoted) >= 3, [(i.opportunity_id, i.state, i.failure_reason) for i in items]
        with portal.open_db() as db:
            for item in quoted:
                findings = {f.rule for f in quotebot_store.findings(item.id)}
                if item.opportunity_id in repriced:
                    continue  # the portal changes these on save, on purpose
                assert item.state is ItemState.VERIFIED, (item.opportunity_id, findings)
                (quote,) = db.find_quotes(opportunity_id=item.opportunity_id)
                assert quote.status == "submitted"
