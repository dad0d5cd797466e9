"""How an expected price was reached, step by step, each with the rule that gave it."""

from __future__ import annotations

from decimal import Decimal

from audit._period import Period
from schemas.money import format_money
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import PriceStep
from schemas.rules import ContractedPrice, PriceBookEntry, PricingRules


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}"


def _base_steps(
    line: OpportunityLine, opportunity: Opportunity, rules: PricingRules, entry: PriceBookEntry
) -> list[PriceStep]:
    method = rules.price_method(opportunity.account_id)
    where = "accounts" if opportunity.account_id in rules.accounts else "renewal_price_method"
    prior = line.prior_unit_price
    steps = [
        PriceStep(step="base", rule="price_book", value=f"{entry.list_price:f}", detail="list"),
        PriceStep(
            step="method",
            rule=where,
            value=method,
            detail=f"prior {prior:f}" if prior is not None else "no prior price: list",
        ),
    ]
    value = prior
    if method == "uplift" and prior is not None:
        rate = rules.uplift_for(entry.family)
        key = f"uplift.{entry.family if entry.family in rules.uplift else 'default'}"
        value = prior * (1 + rate)
        steps.append(PriceStep(step="uplift", rule=key, value=f"{value:f}", detail=_rate(rate)))
    if value is not None and method != "list" and rules.cap_at_list:
        capped = min(value, entry.list_price)
        steps.append(
            PriceStep(
                step="cap_at_list", rule="cap_at_list", value=f"{capped:f}", detail="list price"
            )
        )
    return steps


def _discount_steps(
    line: OpportunityLine, opportunity: Opportunity, rules: PricingRules
) -> list[PriceStep]:
    volume = rules.volume_discount(line.quantity)
    term = rules.term_discount(opportunity.renewal_term_months)
    cap = rules.max_discount[opportunity.segment]
    return [
        PriceStep(
            step="volume_tier",
            rule="volume_tiers",
            value=_rate(volume),
            detail=f"quantity {line.quantity}",
        ),
        PriceStep(
            step="term_discount",
            rule="term_discounts",
            value=_rate(term),
            detail=f"{opportunity.renewal_term_months} months",
        ),
        PriceStep(
            step="segment_cap",
            rule=f"max_discount.{opportunity.segment}",
            value=_rate(min(volume + term, cap)),
            detail=f"at most {_rate(cap)}",
        ),
    ]


def explain(
    line: OpportunityLine,
    opportunity: Opportunity,
    rules: PricingRules,
    entry: PriceBookEntry,
    hold: ContractedPrice | None,
    unit_price: Decimal,
    span: Period | None,
    amount: Decimal,
) -> tuple[PriceStep, ...]:
    """The steps of AUDIT_SPEC's "Explaining a price" for one expected line."""
    places = rules.places(opportunity.currency)
    if hold is not None:
        steps = [
            PriceStep(
                step="contracted",
                rule="contracted_prices",
                value=f"{hold.unit_price:f}",
                detail=f"{hold.from_} to {hold.until}: no uplift, cap or discount",
            )
        ]
    else:
        steps = _base_steps(line, opportunity, rules, entry)
        steps += _discount_steps(line, opportunity, rules)
    steps.append(
        PriceStep(
            step="rounding",
            rule="currency_places",
            value=format_money(unit_price, places),
            detail=f"half up to {places} places",
        )
    )
    if span is not None:
        steps.append(
            PriceStep(
                step="period", rule="proration", value=str(span.factor), detail=span.describe()
            )
        )
    steps.append(
        PriceStep(
            step="line_amount",
            rule="unit_price x quantity x factor",
            value=format_money(amount, places),
            detail=f"{format_money(unit_price, places)} x {line.quantity}",
        )
    )
    return tuple(steps)
