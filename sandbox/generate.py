"""The deterministic seeded generator: a client's portal data, its pricing rules, and the
ground truth of every anomaly planted in it (what a correct bot and audit must produce).

Same seed and same `today` give byte-identical rules.yaml, ground_truth.json,
credentials.json and database dump: one `random.Random(seed)`, no clock, no set order.
"""

from __future__ import annotations

import base64
import json
import os
import random
import string
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sandbox import _renewal_world as rw
from sandbox import _util as u
from sandbox import _world as w
from sandbox._proration import METHODS
from sandbox.config import CREDENTIALS_NAME, DB_NAME, GROUND_TRUTH_NAME, RULES_NAME
from sandbox.db import Database
from sandbox.models import Credentials
from sandbox.portal import PO_SHARE_PERCENT

USERNAME = "bot"


@dataclass(frozen=True)
class GeneratedPaths:
    """Where the generator wrote a portal's data."""

    data_dir: Path
    db: Path
    rules: Path
    ground_truth: Path
    credentials: Path


def generate(
    data_dir: Path,
    seed: int,
    n_opportunities: int,
    today: date,
    *,
    client: str = "sandbox",
    proration: str = "month_day",
    portal_proration: str | None = None,
) -> GeneratedPaths:
    """(Re)create a portal's data in `data_dir`; any previous portal database is replaced.

    `proration` is the client's rules' method; `portal_proration` the one its portal
    charges by (default: the same). Where they differ, every line the two charge
    differently is a planted `portal_prorates_by_other_method`."""
    if n_opportunities < 1:
        raise ValueError(f"n_opportunities must be >= 1, got {n_opportunities}")
    portal_proration = portal_proration or proration
    for name, method in (("proration", proration), ("portal_proration", portal_proration)):
        if method not in METHODS:
            raise ValueError(f"{name} must be one of {', '.join(METHODS)}, got {method!r}")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    book = w.price_book(rng)
    accounts = w.accounts(rng, max(4, n_opportunities // 3))
    opps, anomalies = w.opportunities(rng, n_opportunities, today, accounts, book)
    prices = {(e["sku"], e["currency"]): e["list_price"] for e in book}
    methods, holds, renewals = rw.plant(seed, today, opps, anomalies, prices)
    business = {a["opportunity_id"] for a in anomalies if a["kind"] in rw.BUSINESS_KINDS}
    anomalies += renewals
    anomalies += rw.prorated_differently(opps, business, proration, portal_proration)
    creds = Credentials(
        username=USERNAME,
        password="".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16)),
        totp_secret=base64.b32encode(rng.randbytes(20)).decode(),
    )
    paths = GeneratedPaths(
        data_dir=data_dir,
        db=data_dir / DB_NAME,
        rules=data_dir / RULES_NAME,
        ground_truth=data_dir / GROUND_TRUTH_NAME,
        credentials=data_dir / CREDENTIALS_NAME,
    )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{paths.db}{suffix}").unlink(missing_ok=True)
    meta = {"seed": str(seed), "today": today.isoformat(), "proration": portal_proration}
    _write_db(paths.db, meta, rng, creds, book, accounts, opps)
    paths.rules.write_text(
        rules_yaml(client, book, methods=methods, holds=holds, proration=proration),
        encoding="utf-8",
    )
    body = {"proration": proration, "portal_proration": portal_proration}
    paths.ground_truth.write_text(
        _ground_truth(seed, today, n_opportunities, anomalies, body), encoding="utf-8"
    )
    _write_credentials(paths.credentials, creds)
    return paths


def load_credentials(data_dir: Path) -> Credentials:
    """The portal user of a generated data dir (keep it out of logs)."""
    raw = json.loads((Path(data_dir) / CREDENTIALS_NAME).read_text(encoding="utf-8"))
    return Credentials(
        username=raw["username"], password=raw["password"], totp_secret=raw["totp_secret"]
    )


def _write_credentials(path: Path, creds: Credentials) -> None:
    body = {
        "username": creds.username,
        "password": creds.password,
        "totp_secret": creds.totp_secret,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(body, indent=2, sort_keys=True) + "\n")


def _write_db(
    path: Path,
    meta: dict[str, str],
    rng: random.Random,
    creds: Credentials,
    book: list[dict[str, Any]],
    accounts: list[dict[str, str]],
    opps: list[dict[str, Any]],
) -> None:
    db = Database(path)
    salt = rng.randbytes(8).hex()
    try:
        with db.write() as conn:
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [*meta.items(), ("format", "2")],
            )
            conn.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?)",
                (creds.username, salt, u.hash_password(creds.password, salt), creds.totp_secret),
            )
            conn.executemany(
                "INSERT INTO accounts VALUES (?, ?, ?)",
                [(a["account_id"], a["name"], a["segment"]) for a in accounts],
            )
            conn.executemany(
                "INSERT INTO price_book VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e["sku"],
                        e["currency"],
                        e["description"],
                        e["family"],
                        str(e["list_price"]),
                        int(e["active"]),
                        str(e["default_price"]),
                        None if e["save_price"] is None else str(e["save_price"]),
                    )
                    for e in book
                ],
            )
            for o in opps:
                end = o["contract_end"]
                conn.execute(
                    "INSERT INTO opportunities VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        o["opportunity_id"],
                        o["account"]["account_id"],
                        o["currency"],
                        end.isoformat() if end else None,
                        o["renewal_term_months"],
                        o["shift"],
                    ),
                )
                conn.executemany(
                    "INSERT INTO opportunity_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            o["opportunity_id"],
                            ln["line_no"],
                            ln["sku"],
                            ln["quantity"],
                            None if ln["prior"] is None else str(ln["prior"]),
                            ln["line_end"].isoformat() if ln.get("line_end") else None,
                            int(ln.get("renew", True)),
                        )
                        for ln in o["lines"]
                    ],
                )
        db.read().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def rules_yaml(
    client: str,
    book: list[dict[str, Any]],
    *,
    methods: dict[str, str] | None = None,
    holds: list[dict[str, Any]] | None = None,
    proration: str = "month_day",
) -> str:
    """The client's pricing rules in AUDIT_SPEC's format, with the portal's true prices,
    the accounts' price methods, the contracted prices and the proration method."""
    out = [f"client: {client}", "currency_places: {USD: 2, EUR: 2, JPY: 0}", "price_book:"]
    for e in sorted(book, key=lambda e: (e["currency"], e["sku"])):
        active = "true" if e["active"] else "false"
        out.append(
            f"  - {{sku: {e['sku']}, family: {e['family']}, currency: {e['currency']}, "
            f'list_price: "{e["list_price"]}", active: {active}}}'
        )
    uplift = ", ".join(f'{k}: "{v}"' for k, v in w.UPLIFT.items())
    out += [f"uplift: {{{uplift}}}", "cap_at_list: true", "volume_tiers:"]
    out += [f'  - {{min_qty: {q}, discount: "{d}"}}' for q, d in w.VOLUME_TIERS]
    out.append("term_discounts:")
    out += [f'  - {{min_months: {m}, discount: "{d}"}}' for m, d in w.TERM_DISCOUNTS]
    caps = ", ".join(f'{k}: "{v}"' for k, v in w.MAX_DISCOUNT.items())
    out += [f"max_discount: {{{caps}}}", "lead_days: 120", "validity_days: 30", 'tolerance: "0.00"']
    out += ["renewal_price_method: uplift", f"proration: {proration}"]
    accounts = sorted((methods or {}).items())
    out.append("accounts:" + ("" if accounts else " {}"))
    out += [f"  {account}: {{price_method: {method}}}" for account, method in accounts]
    ordered = sorted(holds or [], key=lambda h: (h["account_id"], h["sku"], h["currency"]))
    out.append("contracted_prices:" + ("" if ordered else " []"))
    out += [
        f"  - {{account_id: {h['account_id']}, sku: {h['sku']}, currency: {h['currency']}, "
        f'unit_price: "{h["unit_price"]}", from: {h["from"]}, until: {h["until"]}}}'
        for h in ordered
    ]
    return "\n".join(out) + "\n"


def _ground_truth(
    seed: int, today: date, n: int, anomalies: list[dict[str, Any]], extra: dict[str, str]
) -> str:
    consequences = {**w.CONSEQUENCES, **rw.CONSEQUENCES}
    records = [
        {**a, "consequence": consequences[a["kind"]]}
        for a in sorted(anomalies, key=lambda a: (a["kind"], a["opportunity_id"], a["sku"] or ""))
    ]
    body = {
        "seed": seed,
        "today": today.isoformat(),
        "opportunities": n,
        "username": USERNAME,
        "customer_po_share_percent": PO_SHARE_PERCENT,
        "anomalies": records,
        **extra,
    }
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
