"""The pricing engine: the quote AUDIT_SPEC expects for an opportunity, in exact decimals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from audit._explain import explain
from audit._period import Period, period
from schemas.money import round_half_up
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import ExpectedLine, ExpectedQuote
from schemas.rules import ContractedPrice, PriceBookEntry, PricingRules

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


def base_price(
    entry: PriceBookEntry, prior: Decimal | None, rules: PricingRules, method: str = "uplift"
) -> Decimal:
    """Before discounts, by the price method: list, same (prior) or uplifted prior; capped."""
    if prior is None or method == "list":
        return entry.list_price
    base = prior * (1 + rules.uplift_for(entry.family)) if method == "uplift" else prior
    return min(base, entry.list_price) if rules.cap_at_list else base


def discount(quantity: int, months: int, segment: str, rules: PricingRules) -> Decimal:
    """Volume tier plus term discount, never more than the segment's max_discount."""
    earned = rules.volume_discount(quantity) + rules.term_discount(months)
    return min(earned, rules.max_discount[segment])


def round_amount(value: Fraction, places: int) -> Decimal:
    """`round(x)` of an exact rational: half away from zero, once."""
    scaled = abs(value) * 10**places
    units = int(scaled + Fraction(1, 2))
    return Decimal(-units if value < 0 else units).scaleb(-places)


def line_amount(unit_price: Decimal, quantity: int, factor: Fraction, places: int) -> Decimal:
    """A line's amount for its period, from its annual unit price and the period's factor."""
    return round_amount(Fraction(unit_price) * quantity * factor, places)


def full_term(months: int) -> Fraction:
    """The factor of a line that runs the whole term (and of quotes without line dates)."""
    return Fraction(months, 12)


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


def line_period(line: OpportunityLine, opportunity: Opportunity, rules: PricingRules) -> Period:
    """The line's renewal period: from the day after its own end to the term's end."""
    end = opportunity.line_ends(line)
    assert end is not None and opportunity.contract_end is not None
    _, term_end = renewal_term(opportunity.contract_end, opportunity.renewal_term_months)
    return period(end + timedelta(days=1), term_end, rules.proration)


def hold_for(
    line: OpportunityLine, opportunity: Opportunity, rules: PricingRules
) -> ContractedPrice | None:
    """The contracted price covering the line's expected start, if the account has one."""
    if not rules.contracted_prices or opportunity.contract_end is None:
        return None
    start = line_period(line, opportunity, rules).start
    return rules.contracted(opportunity.account_id, line.sku, opportunity.currency, start)


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
    hold = hold_for(line, opportunity, rules)
    method = rules.price_method(opportunity.account_id)
    with localcontext(EXACT):
        if hold is not None:
            base, rate = hold.unit_price, Decimal(0)
        else:
            base = base_price(entry, line.prior_unit_price, rules, method)
            rate = discount(line.quantity, months, opportunity.segment, rules)
        unit_price = round_half_up(base * (1 - rate), places)
    span = line_period(line, opportunity, rules) if opportunity.contract_end else None
    factor = span.factor if span else full_term(months)
    amount = line_amount(unit_price, line.quantity, factor, places)
    return ExpectedLine(
        line_no=line.line_no,
        sku=line.sku,
        family=entry.family,
        quantity=line.quantity,
        list_price=entry.list_price,
        base_price=base,
        discount=rate,
        unit_price=unit_price,
        line_amount=amount,
        line_start=span.start if span else None,
        line_end=span.end if span else None,
        contracted=hold is not None,
        steps=explain(line, opportunity, rules, entry, hold, unit_price, span, amount),
    )


def price(opportunity: Opportunity, rules: PricingRules, quote_date: date) -> ExpectedQuote:
    """The quote an opportunity must get on `quote_date`; `UnpriceableError` if it cannot.

    Do-not-renew lines (`renew = no`) are not on it."""
    if opportunity.contract_end is None:
        raise UnpriceableError(
            "missing_contract_end", f"opportunity {opportunity.opportunity_id} has no contract end"
        )
    term_start, term_end = renewal_term(opportunity.contract_end, opportunity.renewal_term_months)
    lines = tuple(price_line(line, opportunity, rules) for line in opportunity.lines if line.renew)
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
