"""The calendar: discovery reads a year ahead and keeps every upcoming renewal, quoting only
those whose window has opened; the forecast then reads the calendar from the store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot_helpers import engagement_for
from sandbox_helpers import running_portal

from bots import RunOptions, run_engagement
from schemas.engagement import QuoteWindow
from schemas.settings import Settings
from store import open_store


def test_discovery_keeps_a_year_of_renewals_and_quotes_only_the_window(tmp_path: Path) -> None:
    with running_portal(tmp_path / "portal", "acme", opportunities=30) as portal:
        today = portal.config.today
        engagement = engagement_for(portal, window=QuoteWindow(days_from=0, days_to=120))
        with portal.open_db() as db:
            page = db.list_opportunities(
                end_from=today, end_to=today + timedelta(365), per_page=200
            )
            upcoming = {o.opportunity_id: o for o in page.items}
        in_window = {
            i for i, o in upcoming.items() if o.contract_end <= today + timedelta(days=120)
        }
        assert 0 < len(in_window) < len(upcoming)
        with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
            options = RunOptions(today=today, progress=False)
            run_engagement(
                engagement, "quote", store, settings=Settings(home=tmp_path), options=options
            )
            calendar = {r.opportunity_id: r for r in store.renewals("acme")}
            items = {i.opportunity_id: i for i in store.items("acme")}

    assert set(calendar) == set(upcoming)
    assert set(items) == in_window, "nothing is quoted before its window opens"
    for opportunity_id, renewal in calendar.items():
        assert renewal.contract_end == upcoming[opportunity_id].contract_end
        item = items.get(opportunity_id)
        if item is not None and item.entered_at is not None:
            assert renewal.quoted_on == item.entered_at.date()
            assert renewal.annual_value is not None and renewal.currency
        if opportunity_id not in in_window:
            assert renewal.quoted_on is None and renewal.annual_value is None
    late = [r for r in calendar.values() if r.line < today]
    assert late, "renewals past their line are kept, not hidden"
