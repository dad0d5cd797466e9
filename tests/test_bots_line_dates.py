"""A portal whose quote lines have no dates of their own (Tryton's sale lines) cannot carry
a co-termed line: the bot refuses that renewal as a business error, with the reason, enters
nothing for it, and quotes every other renewal."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_helpers import assert_refused, due_ids, engagement_for
from sandbox_helpers import running_portal

from bots import RunOptions, run_engagement
from bots.portals.acme import AcmeBot
from schemas.settings import Settings
from schemas.work import ItemState
from store import open_store


def test_a_portal_without_line_dates_refuses_co_termed_renewals_and_quotes_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real acme portal, driven by a bot that declares what Tryton declares: the
    # capability, not the portal, is what this test changes.
    monkeypatch.setattr(AcmeBot, "carries_line_dates", False)
    with (
        running_portal(tmp_path / "portal", "acme", opportunities=12) as portal,
        open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store,
    ):
        engagement = engagement_for(portal)
        options = RunOptions(today=portal.config.today, progress=False)
        settings = Settings(home=tmp_path / "home")
        result = run_engagement(engagement, "quote", store, settings=settings, options=options)
        assert result.drift is None
        due = due_ids(portal, engagement)
        truth = portal.ground_truth["anomalies"]
        coterm = {a["opportunity_id"] for a in truth if a["kind"] == "coterm_line"} & due
        business = {a["opportunity_id"] for a in truth if a["consequence"]["business_error"]} & due
        assert coterm, "the seed puts a co-termed renewal in the window"
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        with portal.open_db() as db:
            for opportunity_id, item in items.items():
                quotes = db.find_quotes(opportunity_id=opportunity_id)
                if opportunity_id in coterm:
                    assert_refused(item, quotes, {"line_dates_unsupported"})
                    assert "co-termed" in (item.failure_reason or "")
                elif opportunity_id not in business:
                    assert item.state in (ItemState.VERIFIED, ItemState.FLAGGED), opportunity_id
                    assert [q.external_ref for q in quotes] == [item.reference]
