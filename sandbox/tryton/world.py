"""The Tryton demo client's data: customers, products, renewal opportunities, pricing rules.

One deterministic description feeds both the seeding of Tryton (`spec.json`, read by
`_seed_script.py` inside Tryton's own environment) and the audit side (`rules.yaml` with
the same list prices, `ground_truth.json` with every opportunity and its lines), so the
prices the bots must enter follow from files written beside the database.

How a renewal is represented in Tryton (documented for the `tryton` bot flavour):
an opportunity (`sale.opportunity`, state "opportunity") whose `end_date` is the contract
end and whose description reads "<segment> renewal, <months> months"; its lines are the
install base (product code = SKU, quantity). A Tryton sale line has no term, so renewals
here are annual (12 months) and a line's amount is the annual amount.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

CLIENT = "tryton-demo"
CURRENCY = "USD"
TERM_MONTHS = 12
PRODUCTS = (  # sku, name, family, annual list price
    ("SUP-STD", "Standard support", "support", "1200.00"),
    ("SUP-PRM", "Premium support", "support", "2150.00"),
    ("LIC-CRM", "CRM seat licence", "license", "480.00"),
    ("LIC-ANL", "Analytics seat licence", "license", "365.50"),
    ("SVC-TAM", "Technical account manager", "services", "9800.00"),
    ("SVC-TRN", "Training day", "services", "1375.25"),
)
SEGMENTS = ("enterprise", "commercial", "smb")
CUSTOMERS = (
    "Northwind Traders",
    "Contoso Pharma",
    "Fabrikam Logistics",
    "Tailspin Air",
    "Wide World Importers",
    "Adventure Works",
    "Litware Labs",
    "Proseware Retail",
)
RULES: dict[str, Any] = {
    "uplift": {"support": "0.05", "default": "0.03"},
    "cap_at_list": True,
    "volume_tiers": [
        {"min_qty": 1, "discount": "0"},
        {"min_qty": 10, "discount": "0.05"},
        {"min_qty": 50, "discount": "0.10"},
    ],
    "term_discounts": [{"min_months": 1, "discount": "0"}, {"min_months": 24, "discount": "0.03"}],
    "max_discount": {"enterprise": "0.20", "commercial": "0.12", "smb": "0.08"},
    "lead_days": 120,
    "validity_days": 30,
    "tolerance": "0.00",
}
VALIDITY_DAYS = RULES["validity_days"]
QUANTITIES = (1, 2, 3, 5, 8, 10, 12, 25, 50, 60)


@dataclass(frozen=True)
class WorldFiles:
    """What `write_world` leaves in a folder."""

    spec: Path
    rules: Path
    ground_truth: Path


def description(segment: str, months: int) -> str:
    """An opportunity's description as the seed writes it (the bot parses it back)."""
    return f"{segment} renewal, {months} months"


def build(today: date, opportunities: int = 5, seed: int = 7) -> dict[str, Any]:
    """The seed description: deterministic for one (today, opportunities, seed)."""
    rng = random.Random(seed)
    customers = [
        {
            "name": name,
            "segment": SEGMENTS[i % len(SEGMENTS)],
            "street": f"{10 + i} Harbour Road",
            "city": "Springfield",
            "postal_code": f"{1000 + i}",
        }
        for i, name in enumerate(CUSTOMERS)
    ]
    opps = []
    for n in range(1, opportunities + 1):
        customer = customers[(n - 1) % len(customers)]
        skus = rng.sample([p[0] for p in PRODUCTS], rng.choice((2, 2, 3)))
        ends = today + timedelta(days=130 + 17 * n)
        opps.append(
            {
                "number": f"OPP-{n:04d}",
                "party": customer["name"],
                "segment": customer["segment"],
                "start_date": (ends - timedelta(days=364)).isoformat(),
                "end_date": ends.isoformat(),
                "description": description(customer["segment"], TERM_MONTHS),
                "lines": [{"sku": sku, "quantity": rng.choice(QUANTITIES)} for sku in skus],
            }
        )
    products = [
        {"sku": s, "name": name, "family": fam, "list_price": price}
        for s, name, fam, price in PRODUCTS
    ]
    return {
        "today": today.isoformat(),
        "currency": CURRENCY,
        "validity_days": VALIDITY_DAYS,
        "customers": customers,
        "products": products,
        "opportunities": opps,
    }


def rules(spec: dict[str, Any]) -> dict[str, Any]:
    """AUDIT_SPEC's rules file, with Tryton's list prices as the price book."""
    book = [
        {
            "sku": p["sku"],
            "family": p["family"],
            "currency": spec["currency"],
            "list_price": p["list_price"],
            "active": True,
        }
        for p in spec["products"]
    ]
    return {"client": CLIENT, "currency_places": {spec["currency"]: 2}, "price_book": book, **RULES}


def ground_truth(spec: dict[str, Any]) -> dict[str, Any]:
    """The opportunities as the audit reads them (AUDIT_SPEC's opportunity fields)."""
    return {
        "opportunities": [
            {
                "opportunity_id": o["number"],
                "account_id": "",
                "account_name": o["party"],
                "segment": o["segment"],
                "currency": spec["currency"],
                "contract_end": o["end_date"],
                "renewal_term_months": TERM_MONTHS,
                "lines": [
                    {
                        "line_no": i,
                        "sku": line["sku"],
                        "quantity": line["quantity"],
                        "prior_unit_price": None,
                    }
                    for i, line in enumerate(o["lines"], 1)
                ],
            }
            for o in spec["opportunities"]
        ]
    }


def write_world(folder: Path, spec: dict[str, Any]) -> WorldFiles:
    folder.mkdir(parents=True, exist_ok=True)
    files = WorldFiles(folder / "spec.json", folder / "rules.yaml", folder / "ground_truth.json")
    files.spec.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    files.rules.write_text(yaml.safe_dump(rules(spec), sort_keys=False), encoding="utf-8")
    files.ground_truth.write_text(json.dumps(ground_truth(spec), indent=1) + "\n", encoding="utf-8")
    return files
