"""Per-quote checks: a quote as read back from a portal against its opportunity and the rules.

The reference for AUDIT_SPEC's checks in exact decimals; the batch audit must agree with it
finding for finding. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from audit._period import period
from audit.pricing import (
    base_price,
    full_term,
    lead_deadline,
    line_amount,
    price_line,
    renewal_term,
)
from schemas.booking import Booking
from schemas.findings import Finding, passes
from schemas.money import format_amount, format_money, round_half_up
from schemas.opportunity import Opportunity
from schemas.quote import PriceStep, QuoteLineSnapshot, QuoteSnapshot
from schemas.rules import PricingRules

__all__ = ["check_booking", "check_quote", "passes"]


def check_quote(
    opportunity: Opportunity | None,
    snapshot: QuoteSnapshot,
    rules: PricingRules,
    *,
    prior_quote_ids: Iterable[str] = (),
) -> list[Finding]:
    """Every finding on one quote, in findings.csv order.

    `prior_quote_ids` are the other quotes known for the same opportunity; the quote is a
    `duplicate_quote` when one of them comes first in quote_id order.
    """
    if opportunity is None:
        actual = snapshot.opportunity_id
        return [Finding.of("unknown_opportunity", snapshot.quote_id, actual, actual=actual)]
    findings = _quote_level(opportunity, snapshot, rules, prior_quote_ids)
    findings += _missing_lines(opportunity, snapshot)
    for line in snapshot.lines:
        findings += _line(opportunity, snapshot, line, rules)
    return sorted(findings, key=Finding.sort_key)


def check_booking(
    booking: Booking, snapshot: QuoteSnapshot | None, rules: PricingRules
) -> list[Finding]:
    """Findings on a booking: its PO against the quote it books."""
    if snapshot is None:
        return [
            Finding.of(
                "unknown_quote", booking.quote_id, actual=booking.quote_id, extra=booking.po_number
            )
        ]
    ids = (booking.quote_id, snapshot.opportunity_id)
    findings = []
    if booking.po_currency != snapshot.currency:
        findings.append(
            Finding.of(
                "po_currency_mismatch", *ids, expected=snapshot.currency, actual=booking.po_currency
            )
        )
    if abs(booking.po_amount - snapshot.quote_total) > rules.tolerance:
        expected = format_amount(snapshot.quote_total, rules.places(snapshot.currency))
        actual = format_amount(booking.po_amount, rules.places(booking.po_currency))
        findings.append(Finding.of("po_amount_mismatch", *ids, expected=expected, actual=actual))
    return findings


def _quote_level(
    opportunity: Opportunity,
    quote: QuoteSnapshot,
    rules: PricingRules,
    prior_quote_ids: Iterable[str],
) -> list[Finding]:
    ids = (quote.quote_id, quote.opportunity_id)
    found = []
    if quote.currency != opportunity.currency:
        found.append(
            Finding.of(
                "currency_mismatch", *ids, expected=opportunity.currency, actual=quote.currency
            )
        )
    if opportunity.contract_end is not None:
        start, end = renewal_term(opportunity.contract_end, opportunity.renewal_term_months)
        for rule, expected, actual in (
            ("term_start_mismatch", start, quote.term_start),
            ("term_end_mismatch", end, quote.term_end),
        ):
            if actual != expected:
                found.append(Finding.of(rule, *ids, expected=str(expected), actual=str(actual)))
        deadline = lead_deadline(opportunity.contract_end, rules)
        if quote.quote_date > deadline:
            found.append(
                Finding.of(
                    "late_quote",
                    *ids,
                    expected=str(deadline),
                    actual=str(quote.quote_date),
                    extra=str(opportunity.contract_end),
                )
            )
    valid_until = quote.quote_date + timedelta(days=rules.validity_days)
    if quote.valid_until < valid_until:
        found.append(
            Finding.of(
                "short_validity", *ids, expected=str(valid_until), actual=str(quote.valid_until)
            )
        )
    shown = sum((line.line_amount for line in quote.lines), Decimal(0))
    if abs(quote.quote_total - shown) > rules.tolerance:
        places = rules.places(quote.currency)
        found.append(
            Finding.of(
                "total_mismatch",
                *ids,
                expected=format_amount(shown, places),
                actual=format_amount(quote.quote_total, places),
            )
        )
    earlier = [other for other in prior_quote_ids if other < quote.quote_id]
    if earlier:
        found.append(
            Finding.of("duplicate_quote", *ids, expected=min(earlier), extra=quote.opportunity_id)
        )
    return found


def _missing_lines(opportunity: Opportunity, quote: QuoteSnapshot) -> list[Finding]:
    quoted = {line.sku for line in quote.lines}
    return [
        Finding.of(
            "missing_line", quote.quote_id, quote.opportunity_id, sku=line.sku, expected=line.sku
        )
        for line in opportunity.lines
        if line.renew and line.sku not in quoted
    ]


def _period_note(months: int, factor: object, detail: str) -> str:
    """The period step of a line amount, named where it is not simply the whole term."""
    return "" if factor == full_term(months) else f" ({detail})"


def _line(
    opportunity: Opportunity, quote: QuoteSnapshot, line: QuoteLineSnapshot, rules: PricingRules
) -> list[Finding]:
    """Findings on one quote line; price checks only where the line can be priced."""

    def flag(rule: str, **values: str) -> Finding:
        ids = (quote.quote_id, quote.opportunity_id)
        return Finding.of(rule, *ids, sku=line.sku, line_no=line.line_no, **values)

    found = []
    places = rules.places(quote.currency)
    months = opportunity.renewal_term_months
    dated = line.line_start is not None or line.line_end is not None
    start, end = line.line_start or quote.term_start, line.line_end or quote.term_end
    own = period(start, end, rules.proration)
    factor = own.factor if dated else full_term(months)
    shown = line_amount(line.unit_price, line.quantity, factor, places)
    if abs(line.line_amount - shown) > rules.tolerance:
        expected, actual = format_money(shown, places), format_amount(line.line_amount, places)
        note = _period_note(months, factor, own.describe())
        found.append(flag("line_amount_mismatch", expected=expected, actual=actual, extra=note))
    wanted = opportunity.line(line.sku)
    entry = rules.entry(line.sku, opportunity.currency)
    if wanted is None:
        return [*found, flag("extra_line", actual=line.sku)]
    if not wanted.renew:
        return [*found, flag("non_renewable_line", actual=line.sku)]
    if entry is None or not entry.active:
        rule = "unknown_sku" if entry is None else "inactive_sku"
        return [
            *found,
            flag(rule, actual=line.sku, extra=opportunity.currency),
        ]
    if line.quantity != wanted.quantity:
        found.append(
            flag(
                "quantity_mismatch",
                expected=str(wanted.quantity),
                actual=str(line.quantity),
            )
        )
    expected_line = price_line(wanted, opportunity, rules)
    if dated and expected_line.line_start is not None:
        for name, want, got in (
            ("line_start", expected_line.line_start, start),
            ("line_end", expected_line.line_end, end),
        ):
            if want != got:
                verb = "starts" if name == "line_start" else "ends"
                found.append(
                    flag(
                        "line_term_mismatch",
                        expected=str(want),
                        actual=str(got),
                        extra=verb,
                        field=name,
                    )
                )
                break
    if quote.currency != opportunity.currency:
        return found  # no price check in another currency: currency_mismatch says it all
    actual = format_amount(line.unit_price, places)
    if abs(line.unit_price - expected_line.unit_price) > rules.tolerance:
        expected = format_money(expected_line.unit_price, places)
        found.append(
            flag(
                "unit_price_mismatch",
                expected=expected,
                actual=actual,
                extra=_price_note(expected_line.steps),
            )
        )
    if expected_line.contracted:
        return found  # a price hold: no discount applies, so no floor
    method = rules.price_method(opportunity.account_id)
    base = base_price(entry, wanted.prior_unit_price, rules, method)
    floor = round_half_up(base * (1 - rules.max_discount[opportunity.segment]), places)
    if floor - line.unit_price > rules.tolerance:
        found.append(
            flag(
                "discount_over_cap",
                expected=format_money(floor, places),
                actual=actual,
                extra=opportunity.segment,
            )
        )
    return found


def _price_note(steps: tuple[PriceStep, ...]) -> str:
    """The step that sets a unit price where it is not the usual uplift of the prior price."""
    for step in steps:
        if step.step == "contracted":
            return f" (contracted price {step.value}, {step.detail.split(':')[0]})"
        if step.step == "method" and step.value != "uplift":
            return f" (price method {step.value}, from {step.rule})"
    return ""
