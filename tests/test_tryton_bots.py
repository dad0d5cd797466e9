"""End to end in a real Tryton: the bots quote every renewal through the web client, the
customer accepts some, the bots book them; JSON-RPC confirms what Tryton holds.

WORK IN PROGRESS, deliberately not named test_*.py so that CI does not collect it. It
passes by hand (6 quotes + 3 bookings in 379 s at load average ~7 on 2 cores), but that is
more than the ~5 minutes the Tryton tests may add to CI, and at load average ~30 it failed:
the second sale line's product was intermittently not taken, and the test ran into pytest's
600 s timeout. Run it with `.venv/bin/pytest tests/tryton_e2e_wip.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tryton_helpers import accept_quotations, ground_truth, sales, tryton_engagement

from audit.pricing import price
from bots import RunOptions, run_engagement
from sandbox.tryton import RunningTryton, running_tryton
from schemas import load_rules
from schemas.settings import Settings
from schemas.work import ItemState
from store import open_store


@pytest.fixture
def tryton(tmp_path: Path) -> Iterator[RunningTryton]:
    with running_tryton(tmp_path / "tryton") as running:
        yield running


def test_quotes_and_bookings_land_in_tryton_once_with_our_prices(
    tryton: RunningTryton, tmp_path: Path
) -> None:
    engagement = tryton_engagement(tryton)
    settings = Settings(home=tmp_path / "home")
    options = RunOptions(today=date.today(), progress=False)
    rules = load_rules(tryton.data.world.rules)
    truth = {o.opportunity_id: o for o in ground_truth(tryton)}
    with open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}") as store:
        quoting = run_engagement(engagement, "quote", store, settings=settings, options=options)
        assert quoting.drift is None
        items = {i.opportunity_id: i for i in store.items(engagement.name)}
        assert set(items) == set(truth)
        states = {o: i.state for o, i in items.items()}
        assert set(states.values()) == {ItemState.VERIFIED}, states

        by_ref = {s["description"].split("(")[1].split(")")[0]: s for s in sales(tryton)}
        assert len(by_ref) == len(sales(tryton)) == len(truth), "one sale per renewal"
        for opportunity_id, item in items.items():
            sale = by_ref[item.reference]
            assert sale["state"] == "quotation"
            assert sale["reference"] == item.reference
            expected = price(truth[opportunity_id], rules, date.today())
            assert sorted(
                (line["product."]["code"], int(line["quantity"]), line["unit_price"])
                for line in sale["lines."]
            ) == sorted((e.sku, e.quantity, e.unit_price) for e in expected.lines)
            assert sale["untaxed_amount"] == expected.quote_total

        accepted = accept_quotations(tryton)
        booking = run_engagement(engagement, "booking", store, settings=settings, options=options)
        assert booking.drift is None
        booked = {i.opportunity_id for i in store.items(engagement.name)
                  if i.state is ItemState.BOOKED}  # fmt: skip
        assert len(booked) == len(accepted)
        after = {s["id"]: s for s in tryton.rpc().search_read(
            "sale.sale", [], ["state", "reference", "untaxed_amount"])}  # fmt: skip
        for sale_id, sale in after.items():
            if sale_id in accepted:
                assert sale["state"] in {"confirmed", "processing"}
                assert sale["reference"] == accepted[sale_id]
            else:
                assert sale["state"] == "quotation"
            assert sale["untaxed_amount"] > Decimal(0)
