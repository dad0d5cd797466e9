"""A read-only key drifts under a run: by default the run stops, as for any drift; an
engagement that opted in (`repair.use_confident_reads`) reads it, for that run only, where
its confident candidate is, once that element shows the value the store knows for the
record, and the ticket records the use; a key the bot types into is never substituted,
opted in or not (issue 29, the last Build point)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_helpers import SELECTORS, assert_drift_stopped_the_run, engagement_for
from playwright.sync_api import Page, expect
from repair_helpers import acme_ui_with, watched_acme
from sandbox_helpers import login, running_portal
from web_helpers import SECRET, sign_in

from bots import RunOptions, SelectorDrift, check_selectors, run_engagement
from bots._repair import DriftEvidence, KeyWatch
from bots._repair._watch import Known
from schemas.engagement import Repair
from schemas.selector_map import PageSelectors, load_selector_map
from schemas.work import ItemState, RunStatus
from store import Store
from web import WebServer, WebSettings, create_app

KEY = "opportunity.account_name"
PROPOSED = "[data-testid=opp-customer-name]"
MAP = load_selector_map(SELECTORS / "acme.yaml")


def _spec(drift: DriftEvidence) -> PageSelectors:
    return MAP.page(drift.key.split(".", 1)[0])


def _drifted(
    page: Page, store: Store, engagement: str, key: str, value: Known
) -> tuple[KeyWatch, DriftEvidence]:
    """A run's watch over the page on screen, whose store "knows" what `value` says and which
    records every use, and `key`'s drift with its evidence (a confident candidate)."""
    watch = KeyWatch(
        store.fingerprints(engagement, "acme"), known_value=value, use=lambda d, b: True
    )
    drift = watch.evidence(
        page, SelectorDrift("acme", key, page.url), MAP.page(key.split(".", 1)[0])
    )
    assert drift.check is not None and drift.check.suggestion is not None
    assert drift.check.suggestion.confident is not None, drift.check.suggestion.reason
    return watch, drift


@pytest.mark.slow
def test_a_drifted_read_key_is_read_at_its_confirmed_candidate_only_when_opted_in(
    tmp_path: Path, page: Page
) -> None:
    # A check on the unchanged portal keeps every key's fingerprint, for two engagements.
    watched = watched_acme(tmp_path, "acme", "acme-w")
    home, settings, store = watched.home, watched.settings, watched.store
    selectors, original = watched.selectors, watched.original
    opted_in = {"selectors": selectors, "workers": 1, "repair": Repair(use_confident_reads=True)}

    # (c) Opted in, a key the bot types into drifted: never substituted, the run stops.
    assets = acme_ui_with(
        tmp_path / "ui-w", "editor.js", 'testid: "external-ref"', 'testid: "ext-reference"'
    )
    with running_portal(tmp_path / "bad-w", "acme", opportunities=6, acme_assets=assets) as portal:
        writing = engagement_for(portal, name="acme-w", **opted_in)
        options = RunOptions(today=portal.config.today, progress=False)
        stopped = run_engagement(writing, "quote", store, settings=settings, options=options)
        assert stopped.drift is not None and stopped.drift.key == "editor.external_ref"
        assert stopped.run.status is RunStatus.FAILED
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was typed into the portal"
        [ticket] = store.drift_tickets(status="open", engagement="acme-w")
        assert ticket.write and ticket.healed is None
        assert ticket.check is not None and ticket.check.suggestion is not None
        assert ticket.check.suggestion.confident is not None, "confident, and still not used"

        # The guard itself: on the editor, a candidate that shows the value "known" for it
        # (an empty field shows "") is still not used for a key the bot types into.
        [priced, *_] = store.items("acme-w", state=ItemState.PRICED)
        login(page, portal, f"/opportunities/{priced.opportunity_id}/quote")
        expect(page.get_by_test_id("quote-editor")).to_be_visible()
        watch, drift = _drifted(page, store, "acme-w", "editor.external_ref", lambda k, p: "")
        assert drift.write
        assert watch.read_at_candidate(page, drift, _spec(drift)) is None and watch.used == {}

    assets = acme_ui_with(tmp_path / "ui", "app.js", '"opp-account-name"', '"opp-customer-name"')
    with running_portal(tmp_path / "bad", "acme", opportunities=6, acme_assets=assets) as portal:
        options = RunOptions(today=portal.config.today, progress=False)
        today = portal.config.today

        # (b) Not opted in: the run stops at the read key, as ever; nothing typed.
        default = engagement_for(portal, selectors=selectors, workers=1)
        assert default.repair.use_confident_reads is False
        stopped = run_engagement(default, "quote", store, settings=settings, options=options)
        assert_drift_stopped_the_run(stopped, store, default, KEY)
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was typed into the portal"
        [ticket] = store.drift_tickets(status="open", engagement="acme")
        assert (ticket.key, ticket.run_id, ticket.healed) == (KEY, stopped.run.id, None)

        # Without the value the store knows for the record on screen, or with another one,
        # the candidate is not used; with it (looked up by the page's opportunity id), it is.
        opportunity_id = stopped.drift.url.rsplit("/", 1)[1]
        with portal.open_db() as db:
            account = db.get_opportunity(opportunity_id).account_name
        login(page, portal, f"/opportunities/{opportunity_id}")
        for wrong in (None, f"{account} Ltd"):
            watch, drift = _drifted(page, store, "acme", KEY, lambda k, p, v=wrong: v)
            assert watch.read_at_candidate(page, drift, _spec(drift)) is None, wrong
        ids = {"opportunity_id": opportunity_id}
        watch, drift = _drifted(
            page, store, "acme", KEY, lambda k, p: account if p == ids else None
        )
        assert watch.read_at_candidate(page, drift, _spec(drift)) == PROPOSED
        assert watch.used == {KEY: PROPOSED}

        # The check never reads at a candidate, opted in or not: it names the drift.
        opted = engagement_for(portal, **opted_in)
        checked = check_selectors(opted, settings, today)
        assert KEY in {d.key for d in checked.drifts}
        assert store.drift_tickets(status="open", engagement="acme")[0].healed is None

        # (a) Opted in: the run reads the account name at the candidate and finishes.
        passed = run_engagement(opted, "quote", store, settings=settings, options=options)
        assert passed.drift is None, passed.drift
        assert passed.run.status is RunStatus.SUCCEEDED, passed.run.error
        items = store.items("acme")
        quoted = [i for i in items if i.state is ItemState.VERIFIED]
        assert len(quoted) >= 2, [(i.opportunity_id, i.state) for i in items]
        with portal.open_db() as db:
            assert len(db.find_quotes()) == len(quoted)
            for item in items:
                shown = db.get_opportunity(item.opportunity_id).account_name
                assert item.account_name == shown, "the account name was read where it went"
                if item.state is ItemState.FAILED:  # the sandbox's bad data: refused, as ever
                    assert item.failure_kind == "business", item.failure_reason
                    continue
                assert item.state is ItemState.VERIFIED, item.opportunity_id
                [quote] = db.find_quotes(opportunity_id=item.opportunity_id)
                assert quote.external_ref == item.reference
                assert quote.status == "submitted", quote.status
                assert quote.quote_number == item.quote_number
                assert item.expected is not None
                assert quote.total == Decimal(item.expected["quote_total"]), item.opportunity_id
        assert selectors.read_text(encoding="utf-8") == original, "the map was not written"

        # The ticket records the use, still waits for a person, and proposes the candidate.
        [ticket] = store.drift_tickets(status="open", engagement="acme")
        words = f"Used for run {passed.run.id} by the engagement's choice; approve to keep it"
        assert (ticket.key, ticket.run_id, ticket.healed) == (KEY, passed.run.id, words)
        assert not ticket.write
        assert ticket.proposed == PROPOSED
        assert ticket.patch is not None and "opp-customer-name" in ticket.patch

        app = create_app(store, WebSettings(secret_key=SECRET), today=today, home=home)
        with WebServer(app) as base_url:
            sign_in(page, base_url, "olga", f"/repairs/{ticket.id}")
            expect(page.get_by_test_id("healed")).to_have_text(words)
            expect(page.get_by_test_id("status")).to_contain_text("waiting for a person")
    store.close()
