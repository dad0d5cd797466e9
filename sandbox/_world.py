"""The simulated client's world, drawn from one `random.Random`: price book, accounts,
opportunities, and the anomalies planted in them (see `sandbox.generate`)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox import _util as u

CURRENCIES = {"USD": Decimal("1"), "EUR": Decimal("0.92"), "JPY": Decimal("150")}
# (sku, family, description, USD list price)
CATALOGUE = [
    ("NET-SUP-100", "support", "Network support, standard", "1200.00"),
    ("NET-SUP-200", "support", "Network support, premium", "2400.00"),
    ("NET-SUB-110", "subscription", "Network analytics subscription", "850.00"),
    ("SEC-LIC-300", "license", "Firewall licence", "3100.00"),
    ("SEC-SUB-310", "subscription", "Threat feed subscription", "640.00"),
    ("SEC-SUP-320", "support", "Firewall support", "910.00"),
    ("CLD-SUB-400", "subscription", "Cloud backup 1 TB", "199.00"),
    ("CLD-SUB-410", "subscription", "Cloud backup 10 TB", "1490.00"),
    ("CLD-SUP-420", "support", "Cloud support desk", "560.00"),
    ("COL-LIC-500", "license", "Collaboration seat", "96.00"),
    ("COL-SUB-510", "subscription", "Meeting rooms subscription", "1320.00"),
    ("SRV-PRO-600", "services", "Health check (per device)", "450.00"),
    ("STO-SUP-700", "support", "Storage array support", "2750.00"),
    ("STO-LIC-710", "license", "Storage tiering licence", "1875.00"),
]
INACTIVE_SKU = ("NET-SUP-050", "support", "Network support, legacy (end of sale)", "990.00")
REPRICED_SKU = ("STO-SUP-730", "support", "Storage array support, extended", "3300.00")
STALE_DEFAULT_SKUS = ("NET-SUP-100", "CLD-SUB-400", "COL-LIC-500")
MARKUP_NAME = "<b>Initech</b> & \"Sons\" <script>alert('x')</script>"
PREFIXES = [
    "Acme",
    "Globex",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Wonka",
    "Oscorp",
    "Monarch",
    "Aperture",
]
SUFFIXES = ["Industries", "Logistics", "Health", "Bank", "Retail", "Labs", "Foods", "Energy"]
SEGMENTS = ["enterprise", "commercial", "smb"]
UPLIFT = {"support": "0.05", "subscription": "0.04", "default": "0.03"}
VOLUME_TIERS = [(1, "0"), (10, "0.05"), (50, "0.10")]
TERM_DISCOUNTS = [(1, "0"), (24, "0.03"), (36, "0.05")]
MAX_DISCOUNT = {"enterprise": "0.20", "commercial": "0.12", "smb": "0.08"}
NONE: dict[str, Any] = {"business_error": None, "quote_entered": True, "findings": []}
CONSEQUENCES: dict[str, dict[str, Any]] = {
    "stale_default_price": {
        **NONE,
        "note": "the editor pre-fills an old price; a bot that "
        "types its own price has no finding (keeping it: unit_price_mismatch)",
    },
    "inactive_sku_in_install_base": {
        "business_error": "unpriceable_line",
        "error_code": "inactive_sku",
        "quote_entered": False,
        "findings": [],
    },
    "missing_contract_end": {
        "business_error": "missing_contract_end",
        "error_code": "missing_contract_end",
        "quote_entered": False,
        "findings": [],
    },
    "markup_account_name": {**NONE, "note": "the name must show as text, never as markup"},
    "volume_tier_crossing": {**NONE, "note": "quantities 9/10/49/50 straddle the tiers"},
    "portal_reprices_line": {
        "business_error": None,
        "quote_entered": True,
        "findings": ["unit_price_mismatch"],
        "not_findings": ["line_amount_mismatch", "total_mismatch"],
        "note": "the portal replaces the typed unit price on save and "
        "recomputes line amount and total from it",
    },
    "portal_term_end_off_by_one": {
        "business_error": None,
        "quote_entered": True,
        "findings": ["term_end_mismatch"],
        "note": "the portal stores term_end + 1 day",
    },
}
PLANTED_PER_KIND = 2


def _price(usd: str, currency: str) -> Decimal:
    return u.round_money(Decimal(usd) * CURRENCIES[currency], currency)


def price_book(rng: random.Random) -> list[dict[str, Any]]:
    entries = []
    for currency in CURRENCIES:
        for sku, family, description, usd in [*CATALOGUE, INACTIVE_SKU, REPRICED_SKU]:
            price = _price(usd, currency)
            default = price
            if sku in STALE_DEFAULT_SKUS:
                default = u.round_money(
                    price * Decimal(rng.choice(["0.90", "0.93", "0.95"])), currency
                )
            save = _price(str(Decimal(usd) * Decimal("1.07")), currency)
            entries.append(
                {
                    "sku": sku,
                    "currency": currency,
                    "description": description,
                    "family": family,
                    "list_price": price,
                    "active": sku != INACTIVE_SKU[0],
                    "default_price": default,
                    "save_price": save if sku == REPRICED_SKU[0] else None,
                }
            )
    return entries


def accounts(rng: random.Random, count: int) -> list[dict[str, str]]:
    names = sorted({f"{p} {s}" for p in PREFIXES for s in SUFFIXES})
    chosen = rng.sample(names, min(count - 1, len(names)))
    rows = [{"name": MARKUP_NAME, "segment": "commercial", "currency": "USD"}]
    for name in chosen:
        currency = rng.choices(list(CURRENCIES), weights=[6, 3, 1])[0]
        rows.append({"name": name, "segment": rng.choice(SEGMENTS), "currency": currency})
    return [{"account_id": f"ACC-{i:04d}", **row} for i, row in enumerate(rows, start=1)]


def opportunities(
    rng: random.Random, n: int, today: date, accounts: list[dict[str, str]], book: list[dict]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Opportunities (with lines) and the anomalies planted in them."""
    regular = [s for s, *_ in CATALOGUE]
    prices = {(e["sku"], e["currency"]): e["list_price"] for e in book}
    opps: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        account = rng.choice(accounts[1:])
        currency = account["currency"]
        skus = rng.sample(regular, rng.randint(1, 4))
        lines = []
        for line_no, sku in enumerate(skus, start=1):
            quantity = rng.choice([1, 2, 3, 5, 8, 12, 20, 25, 40, 60, 100])
            prior = None
            if rng.random() < 0.8:
                factor = Decimal(rng.randint(80, 100)) / 100
                prior = u.round_money(prices[(sku, currency)] * factor, currency)
            lines.append({"line_no": line_no, "sku": sku, "quantity": quantity, "prior": prior})
        opps.append(
            {
                "opportunity_id": f"OPP-{i:05d}",
                "account": account,
                "currency": currency,
                "contract_end": today + timedelta(days=rng.randint(1, 365)),
                "renewal_term_months": rng.choice([12, 12, 12, 24, 36]),
                "lines": lines,
                "shift": 0,
            }
        )
    kinds = [k for k in CONSEQUENCES if k != "stale_default_price"]
    planted_idx = rng.sample(range(n), min(n, len(kinds) * PLANTED_PER_KIND))
    anomalies: list[dict[str, Any]] = []
    for slot, index in enumerate(planted_idx):
        opp, kind = opps[index], kinds[slot // PLANTED_PER_KIND]
        planted_sku = _plant(rng, kind, opp, accounts[0], prices)
        if slot % PLANTED_PER_KIND == 0 and opp["contract_end"] is not None:
            # One of each kind ends inside the usual 90-150-day quoting window, so that a
            # default quoting run (the demo's) meets every kind of anomaly.
            opp["contract_end"] = today + timedelta(days=rng.randint(95, 145))
        anomalies.append(
            {"kind": kind, "opportunity_id": opp["opportunity_id"], "sku": planted_sku}
        )
    for opp in opps:  # stale defaults touch every opportunity that quotes such a SKU
        for line in opp["lines"]:
            if line["sku"] in STALE_DEFAULT_SKUS:
                oid = opp["opportunity_id"]
                anomalies.append(
                    {"kind": "stale_default_price", "opportunity_id": oid, "sku": line["sku"]}
                )
    return opps, anomalies


def _plant(
    rng: random.Random, kind: str, opp: dict[str, Any], markup: dict[str, str], prices: dict
) -> str | None:
    lines = opp["lines"]

    def add_line(sku: str) -> None:
        prior = u.round_money(prices[(sku, opp["currency"])] * Decimal("0.9"), opp["currency"])
        lines.append(
            {"line_no": len(lines) + 1, "sku": sku, "quantity": rng.randint(1, 30), "prior": prior}
        )

    if kind == "inactive_sku_in_install_base":
        add_line(INACTIVE_SKU[0])
        return INACTIVE_SKU[0]
    if kind == "portal_reprices_line":
        add_line(REPRICED_SKU[0])
        return REPRICED_SKU[0]
    if kind == "missing_contract_end":
        opp["contract_end"] = None
    elif kind == "markup_account_name":
        opp["account"], opp["currency"] = markup, markup["currency"]
        for line in lines:
            line["prior"] = None  # prices were drawn in the old currency
    elif kind == "volume_tier_crossing":
        skus = rng.sample([s for s, *_ in CATALOGUE], 4)
        opp["lines"] = [
            {"line_no": n, "sku": sku, "quantity": qty, "prior": None}
            for n, (sku, qty) in enumerate(zip(skus, [9, 10, 49, 50], strict=True), start=1)
        ]
    elif kind == "portal_term_end_off_by_one":
        opp["shift"] = 1
    return None
