"""Helpers for the Tryton tests: what the real Tryton holds, read over JSON-RPC."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from sandbox.tryton import RunningTryton
from schemas import Opportunity
from schemas.engagement import Engagement, QuoteWindow

REPO = Path(__file__).resolve().parents[1]


def ground_truth(tryton: RunningTryton) -> list[Opportunity]:
    """The opportunities the seed wrote beside the database, as the audit reads them."""
    raw = json.loads(Path(tryton.data.world.ground_truth).read_text(encoding="utf-8"))
    return [Opportunity.model_validate(o) for o in raw["opportunities"]]


def tryton_opportunities(tryton: RunningTryton) -> dict[str, list[tuple[str, int]]]:
    """Every renewal opportunity in Tryton with its lines (sku, quantity), by number."""
    rows = tryton.rpc().search_read(
        "sale.opportunity", [], ["number", "lines.product.code", "lines.quantity"]
    )
    return {
        r["number"]: [(line["product."]["code"], int(line["quantity"])) for line in r["lines."]]
        for r in rows
    }


def tryton_engagement(tryton: RunningTryton, **overrides: object) -> Engagement:
    """An engagement on the running Tryton; its credentials go into the environment."""
    os.environ["QB_TEST_TRYTON_USER"] = tryton.login
    os.environ["QB_TEST_TRYTON_PASSWORD"] = tryton.password
    fields: dict[str, object] = {
        "name": "tryton",
        "flavour": "tryton",
        "url": tryton.base_url,
        "username_env": "QB_TEST_TRYTON_USER",
        "password_env": "QB_TEST_TRYTON_PASSWORD",
        "selectors": REPO / "selectors" / "tryton.yaml",
        "rules": tryton.data.world.rules,
        "window": QuoteWindow(days_from=0, days_to=730),
        "workers": 1,
    }
    fields.update(overrides)
    return Engagement(**fields)  # type: ignore[arg-type]


def sales(tryton: RunningTryton) -> list[dict[str, Any]]:
    """Every sale in Tryton with its lines, as JSON-RPC reads them."""
    return tryton.rpc().search_read(
        "sale.sale",
        [],
        [
            "number",
            "reference",
            "description",
            "state",
            "comment",
            "untaxed_amount",
            "lines.product.code",
            "lines.quantity",
            "lines.unit_price",
        ],
        [["id", "ASC"]],
    )


def accept_quotations(tryton: RunningTryton, every: int = 2) -> dict[int, str]:
    """The customer accepts every `every`-th quotation: a PO line in the sale's comment."""
    rpc = tryton.rpc()
    quoted = rpc.search_read(
        "sale.sale", [["state", "=", "quotation"]], ["untaxed_amount"], [["id", "ASC"]]
    )
    accepted = {}
    for row in quoted[::every]:
        po = f"PO-{70000 + row['id']}"
        comment = f"Customer PO: {po}, {date.today().isoformat()}, {row['untaxed_amount']} USD"
        rpc.call("sale.sale", "write", [row["id"]], {"comment": comment})
        accepted[row["id"]] = po
    return accepted
