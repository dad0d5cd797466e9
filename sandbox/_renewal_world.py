"""Real renewal pricing planted over the base world (`sandbox._world`): lines added mid-term
that end after the contract (co-termed by the renewal), do-not-renew lines, accounts priced
`same` or `list`, contracted prices, and the lines a portal prorating by another method
than the rules charges differently. Drawn from its own `random.Random`, so the base world of
a seed stays what it was."""

from __future__ import annotations

import calendar
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from sandbox import _util as u
from sandbox._proration import year_share
from sandbox._world import CATALOGUE, NONE

PER_KIND = 2
CONSEQUENCES: dict[str, dict[str, Any]] = {
    "coterm_line": {
        **NONE,
        "note": "a line added mid-term ends after the contract (a month end, or Feb 29): "
        "the renewal co-terms it, from the day after its end to term_end, prorated",
    },
    "do_not_renew_line": {
        **NONE,
        "note": "the customer gave notice on the line: it is not quoted "
        "(quoting it: non_renewable_line)",
    },
    "price_method_same": {**NONE, "note": "the account renews at last term's price"},
    "price_method_list": {**NONE, "note": "the account renews at list price"},
    "contracted_price": {
        **NONE,
        "note": "a price hold covers the line's start: its price, no uplift or discount",
    },
    "contracted_price_day_short": {
        **NONE,
        "note": "a price hold ends the day before the line starts: the usual price",
    },
    "portal_prorates_by_other_method": {
        "business_error": None,
        "quote_entered": True,
        "findings": ["line_amount_mismatch"],
        "not_findings": ["total_mismatch", "line_term_mismatch"],
        "note": "the portal prorates the line's amount by another method than the rules",
    },
}
BUSINESS_KINDS = {"inactive_sku_in_install_base", "missing_contract_end"}


def term_end(opp: dict[str, Any]) -> date:
    start = opp["contract_end"] + timedelta(days=1)
    return start + relativedelta(months=opp["renewal_term_months"]) - timedelta(days=1)


def plant(
    seed: int,
    today: date,
    opps: list[dict[str, Any]],
    base_anomalies: list[dict[str, Any]],
    prices: dict[tuple[str, str], Decimal],
) -> tuple[dict[str, str], list[dict[str, Any]], list[dict[str, Any]]]:
    """Plant the renewal world; `(account price methods, contracted prices, anomalies)`."""
    rng = random.Random(f"{seed}:renewals")
    business = {a["opportunity_id"] for a in base_anomalies if a["kind"] in BUSINESS_KINDS}
    planted = {a["opportunity_id"] for a in base_anomalies}
    pool = [o for o in opps if o["opportunity_id"] not in business and o["contract_end"]]
    # Unplanted opportunities first, so that a large world keeps the kinds apart.
    pool.sort(key=lambda o: (o["opportunity_id"] in planted, rng.random()))
    anomalies: list[dict[str, Any]] = []

    def note(kind: str, opp: dict[str, Any], sku: str | None) -> None:
        anomalies.append({"kind": kind, "opportunity_id": opp["opportunity_id"], "sku": sku})

    touched: set[str] = set()

    def take(count: int) -> list[dict[str, Any]]:
        chosen = pool[:count]
        del pool[:count]
        pool.extend(chosen)  # reused only when the world is too small for every kind
        for index, opp in enumerate(chosen):
            if index == 0 and opp["opportunity_id"] not in touched:
                # One of each kind inside the usual 90-150-day quoting window (dates are
                # moved only before anything is planted on them).
                opp["contract_end"] = today + timedelta(days=rng.randint(95, 145))
            touched.add(opp["opportunity_id"])
        return chosen

    for index, opp in enumerate(take(PER_KIND)):
        note("coterm_line", opp, _add_coterm_line(rng, opp, prices, leap=index == 0))
    for opp in take(PER_KIND):
        note("do_not_renew_line", opp, _add_line(rng, opp, prices, renew=False))
    methods: dict[str, str] = {}
    for method in ("same", "list"):
        account = next(
            (
                o["account"]["account_id"]
                for o in take(1)
                if o["account"]["account_id"] not in methods
            ),
            None,
        )
        if account is not None:
            methods[account] = method
    for opp in opps:
        override = methods.get(opp["account"]["account_id"])
        if override and opp["opportunity_id"] not in business:
            note(f"price_method_{override}", opp, None)
    holds: list[dict[str, Any]] = []
    for kind, short in (("contracted_price", False), ("contracted_price_day_short", True)):
        for opp in take(PER_KIND):
            hold = _hold(rng, opp, holds, prices, day_short=short)
            if hold is not None:
                holds.append(hold)
                note(kind, opp, hold["sku"])
    return methods, holds, anomalies


def prorated_differently(
    opps: list[dict[str, Any]], business: set[str], rules: str, portal: str
) -> list[dict[str, Any]]:
    """The renewed lines the portal charges for another share of a year than the rules."""
    found = []
    for opp in opps:
        if rules == portal or opp["opportunity_id"] in business or not opp["contract_end"]:
            continue
        end = term_end(opp)
        for line in opp["lines"]:
            if not line.get("renew", True):
                continue
            start = (line.get("line_end") or opp["contract_end"]) + timedelta(days=1)
            if year_share(start, end, rules) != year_share(start, end, portal):
                oid = opp["opportunity_id"]
                kind = "portal_prorates_by_other_method"
                found.append({"kind": kind, "opportunity_id": oid, "sku": line["sku"]})
    return found


def _free_sku(rng: random.Random, opp: dict[str, Any]) -> str:
    quoted = {line["sku"] for line in opp["lines"]}
    return rng.choice([sku for sku, *_ in CATALOGUE if sku not in quoted])


def _add_line(
    rng: random.Random,
    opp: dict[str, Any],
    prices: dict[tuple[str, str], Decimal],
    *,
    line_end: date | None = None,
    renew: bool = True,
) -> str:
    sku = _free_sku(rng, opp)
    factor = Decimal(rng.randint(85, 100)) / 100
    prior = u.round_money(prices[(sku, opp["currency"])] * factor, opp["currency"])
    opp["lines"].append(
        {
            "line_no": len(opp["lines"]) + 1,
            "sku": sku,
            "quantity": rng.choice([1, 2, 4, 6, 15]),
            "prior": prior,
            "line_end": line_end,
            "renew": renew,
        }
    )
    return sku


def _add_coterm_line(rng: random.Random, opp: dict[str, Any], prices: dict, *, leap: bool) -> str:
    """An add-on line ending on a month end after the contract (Feb 29 when `leap`)."""
    contract_end = opp["contract_end"]
    if leap:
        opp["renewal_term_months"] = 36  # long enough to hold a Feb 29
        year = contract_end.year
        while not (calendar.isleap(year) and date(year, 2, 29) > contract_end):
            year += 1
        if date(year, 2, 29) < term_end(opp):
            return _add_line(rng, opp, prices, line_end=date(year, 2, 29))
    ends = []
    month = date(contract_end.year, contract_end.month, 1) + relativedelta(months=1)
    while True:
        last = month - timedelta(days=1)
        if last >= term_end(opp):
            break
        if last > contract_end:
            ends.append(last)
        month += relativedelta(months=1)
    return _add_line(rng, opp, prices, line_end=rng.choice(ends[1:] or ends or [contract_end]))


def _hold(
    rng: random.Random,
    opp: dict[str, Any],
    holds: list[dict[str, Any]],
    prices: dict[tuple[str, str], Decimal],
    *,
    day_short: bool,
) -> dict[str, Any] | None:
    """A price hold on one of the opportunity's renewed lines, covering its start or ending
    the day before it; None when every line's sku already has a hold for the account."""
    account, currency = opp["account"]["account_id"], opp["currency"]
    taken = {(h["account_id"], h["sku"]) for h in holds}
    lines = [
        line
        for line in opp["lines"]
        if line.get("renew", True) and (account, line["sku"]) not in taken
    ]
    if not lines:
        return None
    line = rng.choice(lines)
    start = (line.get("line_end") or opp["contract_end"]) + timedelta(days=1)
    if day_short:
        until, first = start - timedelta(days=1), start - timedelta(days=365)
    else:
        first, until = start - timedelta(days=rng.randint(0, 200)), start + timedelta(days=730)
    price = u.round_money(prices[(line["sku"], currency)] * Decimal("0.82"), currency)
    return {
        "account_id": account,
        "sku": line["sku"],
        "currency": currency,
        "unit_price": price,
        "from": first,
        "until": until,
    }
