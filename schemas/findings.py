"""Findings: what the audit flags for the quote audit team, one row of findings.csv each."""

from __future__ import annotations

from typing import Literal, NamedTuple

from schemas._base import Record

Severity = Literal["error", "warning"]
Level = Literal["quote", "line", "booking"]

FINDINGS_COLUMNS = (
    "quote_id",
    "opportunity_id",
    "sku",
    "line_no",
    "rule",
    "severity",
    "field",
    "expected",
    "actual",
    "message",
)


class Rule(NamedTuple):
    """A rule of AUDIT_SPEC: how bad, at which level, which field, and its message.

    The message is a `str.format` template over `expected`, `actual`, `sku` and `extra`,
    shared by the per-quote checks and the batch audit so both write the same text.
    """

    severity: Severity
    level: Level
    field: str
    message: str


RULES: dict[str, Rule] = {
    "currency_mismatch": Rule(
        "error",
        "quote",
        "currency",
        "quote currency {actual} differs from the opportunity's {expected}",
    ),
    "term_start_mismatch": Rule(
        "error", "quote", "term_start", "term starts {actual}, expected {expected}"
    ),
    "term_end_mismatch": Rule(
        "error", "quote", "term_end", "term ends {actual}, expected {expected}"
    ),
    "late_quote": Rule(
        "warning",
        "quote",
        "quote_date",
        "quoted {actual}, after the lead-time deadline {expected} (contract ends {extra})",
    ),
    "short_validity": Rule(
        "warning", "quote", "valid_until", "valid until {actual}, expected at least {expected}"
    ),
    "total_mismatch": Rule(
        "error", "quote", "quote_total", "quote total {actual}, but its lines add up to {expected}"
    ),
    "duplicate_quote": Rule(
        "error", "quote", "quote_id", "quote {expected} already renews opportunity {extra}"
    ),
    "unknown_opportunity": Rule(
        "error", "quote", "opportunity_id", "opportunity {actual} is not in the opportunities"
    ),
    "missing_line": Rule("error", "line", "sku", "opportunity line {sku} has no quote line"),
    "extra_line": Rule("error", "line", "sku", "quote line {sku} is not in the opportunity"),
    "non_renewable_line": Rule(
        "error",
        "line",
        "sku",
        "quote line {sku} renews a line marked do-not-renew (renew = no) in the opportunity",
    ),
    "line_term_mismatch": Rule(
        "error",
        "line",
        "line_start",
        "line {extra} {actual}, expected {expected} (co-termed: from the day after the line's "
        "own end to the quote's term end)",
    ),
    "unknown_sku": Rule("error", "line", "sku", "no price book entry for {sku} in {extra}"),
    "inactive_sku": Rule(
        "error", "line", "sku", "the price book entry for {sku} in {extra} is inactive"
    ),
    "quantity_mismatch": Rule(
        "error", "line", "quantity", "quantity {actual}, the opportunity has {expected}"
    ),
    "unit_price_mismatch": Rule(
        "error", "line", "unit_price", "unit price {actual}, expected {expected}{extra}"
    ),
    "discount_over_cap": Rule(
        "error",
        "line",
        "unit_price",
        "unit price {actual} is below {expected}, the floor of max_discount for {extra}",
    ),
    "line_amount_mismatch": Rule(
        "error",
        "line",
        "line_amount",
        "line amount {actual}, expected {expected} for its unit price, quantity and term{extra}",
    ),
    "po_amount_mismatch": Rule(
        "error",
        "booking",
        "po_amount",
        "PO amount {actual} differs from the quote total {expected}",
    ),
    "po_currency_mismatch": Rule(
        "error",
        "booking",
        "po_currency",
        "PO currency {actual} differs from the quote's {expected}",
    ),
    "unknown_quote": Rule(
        "error",
        "booking",
        "quote_id",
        "PO {extra} books quote {actual}, which is not in the quotes",
    ),
}


class Finding(Record):
    """One broken rule on one quote (or line, or booking), with expected and actual values."""

    quote_id: str
    opportunity_id: str = ""
    sku: str = ""
    line_no: int | None = None
    rule: str
    severity: Severity
    field: str
    expected: str = ""
    actual: str = ""
    message: str

    @property
    def is_error(self) -> bool:
        """Errors fail a quote's first-pass accuracy; warnings are only reported."""
        return self.severity == "error"

    @classmethod
    def of(
        cls,
        rule: str,
        quote_id: str,
        opportunity_id: str = "",
        *,
        sku: str = "",
        line_no: int | None = None,
        expected: str = "",
        actual: str = "",
        extra: str = "",
        field: str = "",
    ) -> Finding:
        """A finding of `rule`, with severity, field and message from the rule catalogue
        (`field` names the field where a rule covers two, e.g. line_start or line_end)."""
        spec = RULES[rule]
        message = spec.message.format(expected=expected, actual=actual, sku=sku, extra=extra)
        return cls(
            quote_id=quote_id,
            opportunity_id=opportunity_id,
            sku=sku,
            line_no=line_no,
            rule=rule,
            severity=spec.severity,
            field=field or spec.field,
            expected=expected,
            actual=actual,
            message=message,
        )

    def sort_key(self) -> tuple[str, int, str, str]:
        """findings.csv order: by quote, quote-level rules first, then by line, sku, rule."""
        return (self.quote_id, -1 if self.line_no is None else self.line_no, self.sku, self.rule)


def passes(findings: list[Finding]) -> bool:
    """True when a quote is first-pass accurate: no error-level finding (warnings allowed)."""
    return not any(f.is_error for f in findings)
