"""The bots against a real Tryton, through its web client; JSON-RPC confirms what Tryton holds.

Both tests set Tryton up from nothing on first use (installed once per machine, in the user's
cache, and seeded once per world) and work a fresh copy of the seeded database: five
renewals of two or three lines. Each starts its own Tryton, so they may run side by side.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from bot_helpers import (
    assert_drift_stopped_the_run,
    bot_process,
    map_with,
    portal_env,
    write_engagements,
)
from tryton_helpers import accept_quotations, ground_truth, sales, tryton_engagement

from audit.pricing import price
from bots import RunOptions, check_selectors, run_engagement
from sandbox.tryton import RunningTryton, running_tryton
from schemas import ExpectedQuote, Opportunity, PricingRules, load_rules
from schemas.engagement import QuoteWindow
from schemas.settings import Settings
from schemas.work import ItemState, WorkItem
from store import open_store


@pytest.fixture
def tryton(tmp_path: Path) -> Iterator[RunningTryton]:
    with running_tryton(tmp_path / "tryton") as running:
        yield running


@pytest.mark.slow
def test_quotes_and_bookings_land_in_tryton_once_with_our_prices(
    tryton: RunningTryton, tmp_path: Path
) -> None:
    engagement = tryton_engagement(tryton, workers=2)  # two sessions of the bot user at once
    settings = Settings(home=tmp_path / "home")
    options = RunOptions(today=date.today(), progress=False)
    rules = load_rules(tryton.data.world.rules)
    truth = {o.opportunity_id: o for o in ground_truth(tryton)}

    # First with the map of a Tryton whose sale lines renamed the Product column: drift,
    # named, before anything is typed (read as "", it would send good renewals to review).
    key = "opportunity.lines.product"
    drifted = tryton_engagement(
        tryton,
        selectors=map_with(tmp_path / "map", "tryton", key, "td[data-title='Item: '] .widget"),
    )
    with open_store(f"sqlite:///{tmp_path / 'drift.sqlite'}") as store:
        result = run_engagement(drifted, "quote", store, settings=settings, options=options)
        assert_drift_stopped_the_run(result, store, drifted, key)
    assert sales(tryton) == [], "nothing was entered in Tryton"
    report = check_selectors(drifted, settings, date.today())
    assert key in [d.key for d in report.drifts], report

    with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
        quoting = run_engagement(engagement, "quote", store, settings=settings, options=options)
        assert quoting.drift is None
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        assert set(items) == set(truth)
        states = {o: i.state for o, i in items.items()}
        assert set(states.values()) == {ItemState.VERIFIED}, states

        _assert_quoted(tryton, items, truth, rules)

        accepted = accept_quotations(tryton)
        booking = run_engagement(engagement, "booking", store, settings=settings, options=options)
        assert booking.drift is None
        booked = {
            i.opportunity_id for i in store.items(engagement.name) if i.state is ItemState.BOOKED
        }
        assert len(booked) == len(accepted)
        _assert_booked(tryton, truth, accepted, rules)


KILLS_QUOTING, KILLS_BOOKING = 5, 3


def _kill_and_finish(
    args: list[str], env: dict[str, str], kills: int, rng: random.Random, seconds: tuple[int, int]
) -> int:
    """Run the bot, SIGKILL its process group `kills` times at random moments, then restart
    it until a run ends cleanly; the kills that hit a running bot."""
    hit = 0
    for _ in range(kills):
        bot = bot_process(args, env)
        try:
            bot.wait(timeout=rng.uniform(*seconds))
        except subprocess.TimeoutExpired:
            os.killpg(bot.pid, signal.SIGKILL)  # the bot and its browser, like a crash
            bot.wait()
            hit += 1
        assert bot.stderr is not None
        bot.stderr.close()
    bot = bot_process(args, env)
    _, stderr = bot.communicate(timeout=600)
    assert bot.returncode == 0, stderr.decode()[-2000:]
    return hit


@pytest.mark.slow
def test_killed_runs_quote_and_book_each_tryton_renewal_exactly_once(
    tryton: RunningTryton, tmp_path: Path
) -> None:
    """The bots issue's kill test, shortened: SIGKILLs while quoting and while booking."""
    rng = random.Random(20261125)
    # three of the five renewals (contract ends 147, 164, 181 days out): CI's time is short
    window = QuoteWindow(days_from=0, days_to=190)
    engagement = tryton_engagement(tryton, window=window, max_attempts=6)
    config = write_engagements(tmp_path / "engagements.yaml", [engagement])
    home = tmp_path / "home"
    env = {
        **os.environ,
        **portal_env(engagement),
        "QUOTEBOT_HOME": str(home),
        "QUOTEBOT_RECONCILE_GRACE_S": "1",
    }
    args = [
        "run",
        engagement.name,
        "--engagements",
        str(config),
        "--no-progress",
        "--today",
        date.today().isoformat(),
    ]

    hits = _kill_and_finish([*args, "--kind", "quote"], env, KILLS_QUOTING, rng, (6, 14))
    last = date.today() + timedelta(days=window.days_to)
    truth = {o.opportunity_id: o for o in ground_truth(tryton) if (o.contract_end or last) <= last}
    assert len(truth) == 3
    rules = load_rules(tryton.data.world.rules)
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
    assert set(items) == set(truth)
    assert {i.state for i in items.values()} == {ItemState.VERIFIED}
    _assert_quoted(tryton, items, truth, rules)  # killed or not, one sale per renewal

    accepted = accept_quotations(tryton)
    hits += _kill_and_finish([*args, "--kind", "booking"], env, KILLS_BOOKING, rng, (4, 9))
    assert hits >= KILLS_QUOTING  # the kills landed in running bots, not after their end
    _assert_booked(tryton, truth, accepted, rules)
    with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        booked = {o for o, i in items.items() if i.state is ItemState.BOOKED}
        assert len(booked) == len(accepted)
        intents = [i for item in items.values() for i in store.intents(item.id)]
        assert not [i for i in intents if i.status == "open"], "every intent reconciled"


def _assert_quoted(
    tryton: RunningTryton,
    items: dict[str, WorkItem],
    truth: dict[str, Opportunity],
    rules: PricingRules,
) -> None:
    """Over JSON-RPC: one sale per renewal (none for any other), a quotation stamped with
    the work item's reference, with exactly our lines and prices."""
    assert len(sales(tryton)) == len(truth)
    for opportunity_id, item in items.items():
        (sale,) = _sales_of(tryton, opportunity_id)
        assert sale["state"] == "quotation"
        assert sale["reference"] == item.reference
        _assert_lines(sale, price(truth[opportunity_id], rules, date.today()))


def _assert_booked(
    tryton: RunningTryton,
    truth: dict[str, Opportunity],
    accepted: dict[int, str],
    rules: PricingRules,
) -> None:
    """Over JSON-RPC: each accepted sale confirmed once with the PO as its reference, the
    others still quotations, the lines untouched."""
    assert len(sales(tryton)) == len(truth)
    for opportunity_id in truth:
        (sale,) = _sales_of(tryton, opportunity_id)
        if sale["id"] in accepted:
            assert sale["state"] in {"confirmed", "processing"}
            assert sale["reference"] == accepted[sale["id"]]
        else:
            assert sale["state"] == "quotation"
        _assert_lines(sale, price(truth[opportunity_id], rules, date.today()))


def _sales_of(tryton: RunningTryton, opportunity_id: str) -> list[dict[str, Any]]:
    return [
        s for s in sales(tryton) if s["description"].startswith(f"Renewal of {opportunity_id} (")
    ]


def _assert_lines(sale: dict[str, Any], expected: ExpectedQuote) -> None:
    """Exactly the expected lines (product, quantity, unit price) and total."""
    assert sorted(
        (line["product."]["code"], int(line["quantity"]), line["unit_price"])
        for line in sale["lines."]
    ) == sorted((e.sku, e.quantity, e.unit_price) for e in expected.lines)
    assert sale["untaxed_amount"] == expected.quote_total
