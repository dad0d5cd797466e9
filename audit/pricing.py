"""The pricing engine: the quote AUDIT_SPEC expects for an opportunity, in exact decimals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Context, Decimal, localcontext

from dateutil.relativedelta import relativedelta

from schemas.money import round_half_up
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import ExpectedLine, ExpectedQuote
from schemas.rules import PriceBookEntry, PricingRules

# Enough digits that products of prices and rates are never rounded before `round_half_up`.
EXACT = Context(prec=60)


class UnpriceableError(ValueError):
    """Raised by `price` when an opportunity cannot be quoted: a business error, no retry.

    `code` is `unknown_sku`, `inactive_sku`, `missing_contract_end` or `unknown_segment`.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def renewal_term(contract_end: date, months: int) -> tuple[date, date]:
    """`(term_start, term_end)`: the day after the contract ends, for `months` calendar months."""
    start = contract_end + timedelta(days=1)
    return start, start + relativedelta(months=months) - timedelta(days=1)


def lead_deadline(contract_end: date, rules: PricingRules) -> date:
    """The last day a renewal may be quoted without being late."""
    return contract_end - timedelta(days=rules.lead_days)


def base_price(entry: PriceBookEntry, prior: Decimal | None, rules: PricingRules) -> Decimal:
    """Before discounts: list price, or the prior price with its family's uplift, capped."""
    if prior is None:
        return entry.list_price
    base = prior * (1 + rules.uplift_for(entry.family))
    return min(base, entry.list_price) if rules.cap_at_list else base


def discount(quantity: int, months: int, segment: str, rules: PricingRules) -> Decimal:
    """Volume tier plus term discount, never more than the segment's max_discount."""
    earned = rules.volume_discount(quantity) + rules.term_discount(months)
    return min(earned, rules.max_discount[segment])


def line_amount(unit_price: Decimal, quantity: int, months: int, places: int) -> Decimal:
    """A line's amount for the whole term, from its annual unit price."""
    with localcontext(EXACT):
        return round_half_up(unit_price * quantity * months / 12, places)


def price_book_entry(sku: str, currency: str, rules: PricingRules) -> PriceBookEntry:
    """The active entry for `(sku, currency)`; an `UnpriceableError` if none or inactive."""
    entry = rules.entry(sku, currency)
    if entry is None:
        raise UnpriceableError("unknown_sku", f"no price book entry for {sku} in {currency}")
    if not entry.active:
        raise UnpriceableError(
            "inactive_sku", f"the price book entry for {sku} in {currency} is inactive"
        )
    return entry


def price_line(
    line: OpportunityLine, opportunity: Opportunity, rules: PricingRules
) -> ExpectedLine:
    """The expected price of one opportunity line (steps 2 to 6 of AUDIT_SPEC)."""
    places = rules.places(opportunity.currency)
    months = opportunity.renewal_term_months
    entry = price_book_entry(line.sku, opportunity.currency, rules)
    if opportunity.segment not in rules.max_discount:
        raise UnpriceableError(
            "unknown_segment", f"segment {opportunity.segment} has no max_discount in the rules"
        )
    with localcontext(EXACT):
        base = base_price(entry, line.prior_unit_price, rules)
        rate = discount(line.quantity, months, opportunity.segment, rules)
        unit_price = round_half_up(base * (1 - rate), places)
    return ExpectedLine(
        line_no=line.line_no,
        sku=line.sku,
        family=entry.family,
        quantity=line.quantity,
        list_price=entry.list_price,
        base_price=base,
        discount=rate,
        unit_price=unit_price,
        line_amount=line_amount(unit_price, line.quantity, months, places),
    )


def price(opportunity: Opportunity, rules: PricingRules, quote_date: date) -> ExpectedQuote:
    """The quote an opportunity must get on `quote_date`; `UnpriceableError` if it cannot."""
    if opportunity.contract_end is None:
        raise UnpriceableError(
            "missing_contract_end", f"opportunity {opportunity.opportunity_id} has no contract end"
        )
    term_start, term_end = renewal_term(opportunity.contract_end, opportunity.renewal_term_months)
    lines = tuple(price_line(line, opportunity, rules) for line in opportunity.lines)
    return ExpectedQuote(
        opportunity_id=opportunity.opportunity_id,
        currency=opportunity.currency,
        quote_date=quote_date,
        valid_until=quote_date + timedelta(days=rules.validity_days),
        term_start=term_start,
        term_end=term_end,
        lines=lines,
        quote_total=sum((line.line_amount for line in lines), Decimal(0)),
    )
