"""Helpers for the Tryton tests: what the real Tryton holds, read over JSON-RPC."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.tryton import RunningTryton
from schemas import Opportunity


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
