"""The one vocabulary people read: rules, fields, steps, decisions, run endings, trail lines.

Codes stay the data (findings.csv, the store, URLs); every page, export, message and command
shows these words instead, and the code only small, where an expert needs it. Outcomes of
items and runs are `schemas.work.OUTCOMES`; this module adds everything else. A code
missing here reads as itself with spaces, never as an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial

from schemas.findings import RULES

RULE_WORDS: dict[str, str] = {
    "currency_mismatch": "Wrong currency",
    "term_start_mismatch": "Wrong term start",
    "term_end_mismatch": "Wrong term end",
    "late_quote": "Quoted late",
    "short_validity": "Valid for too short a time",
    "total_mismatch": "Total does not add up",
    "duplicate_quote": "Opportunity quoted twice",
    "unknown_opportunity": "Opportunity not found",
    "missing_line": "Line missing from the quote",
    "extra_line": "Line not in the opportunity",
    "non_renewable_line": "Do-not-renew line quoted",
    "line_term_mismatch": "Wrong line period",
    "unknown_sku": "Product not in the price book",
    "inactive_sku": "Product no longer sold",
    "quantity_mismatch": "Wrong quantity",
    "unit_price_mismatch": "Wrong unit price",
    "discount_over_cap": "Discount above the cap",
    "line_amount_mismatch": "Wrong line amount",
    "po_amount_mismatch": "PO amount differs from the quote",
    "po_currency_mismatch": "PO currency differs from the quote",
    "unknown_quote": "PO books an unknown quote",
    # Bad data found by the bots before anything was entered (business failures' codes).
    "missing_expiry": "Contract end date missing",
    "negative_quantity": "Negative quantity",
    "unreadable_page": "Portal page unreadable",
    "business": "Bad data",
}
"""Every audit rule (`schemas.findings.RULES`) and bad-data code, as the audit team says it."""

FIELD_WORDS: dict[str, str] = {
    "currency": "Currency",
    "quote_date": "Quote date",
    "valid_until": "Valid until",
    "term_start": "Term start",
    "term_end": "Term end",
    "quote_total": "Quote total",
    "quote_id": "Quote",
    "opportunity_id": "Opportunity",
    "sku": "Product",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "line_amount": "Line amount",
    "line_start": "Line start",
    "line_end": "Line end",
    "po_amount": "PO amount",
    "po_currency": "PO currency",
    "state": "State",
    "paused": "Paused",
    "revision": "Revision",
    "reference": "Reference",
    "reason": "Reason",
    "engagements": "Engagements",
    "role": "Role",
    "disabled": "Disabled",
    "cron": "Schedule",
    "timezone": "Time zone",
}

STEP_WORDS: dict[str, str] = {
    "base": "List price",
    "method": "Pricing method",
    "contracted": "Contracted price",
    "uplift": "Uplift on the prior price",
    "cap_at_list": "Capped at list price",
    "volume_tier": "Volume discount",
    "term_discount": "Term discount",
    "segment_cap": "Discount after the segment's cap",
    "rounding": "Unit price, rounded",
    "period": "Share of a year",
    "line_amount": "Line amount",
}
"""The steps of the price explanation (`schemas.quote.PriceStep.step`)."""

STEP_MONEY = frozenset({"base", "contracted", "uplift", "cap_at_list", "rounding", "line_amount"})
"""Steps whose value is an amount of money (the others are rates, factors or words)."""
STEP_RATES = frozenset({"volume_tier", "term_discount", "segment_cap"})
"""Steps whose value is a rate (0.05 is 5 %)."""

DECISION_WORDS: dict[str, str] = {
    "accept": "Accept",
    "correct": "Send back for correction",
    "escalate": "Escalate",
}
DECIDED_WORDS: dict[str, str] = {
    "accept": "accepted",
    "correct": "sent back for correction",
    "escalate": "escalated",
}
"""A decision in the past tense: "Saved: accepted.", "decided by alice: escalated"."""

SEVERITY_WORDS: dict[str, str] = {
    "error": "Error",
    "warning": "Warning",
    "business": "Bad data",
    "sample": "Quality sample",
}

RUN_STATUS_WORDS: dict[str, str] = {
    "running": "running",
    "succeeded": "finished",
    "with_failures": "finished, with failures",
    "failed": "failed",
    "abandoned": "stopped answering",
}
"""How a run ended; `with_failures`: it finished, but some of its items failed."""

KIND_WORDS: dict[str, str] = {"quote": "quoting", "booking": "booking"}

TRAIL_WORDS: dict[str, str] = {
    "review_accept": "accepted",
    "review_correct": "sent back for correction",
    "review_escalate": "escalated",
    "retry": "retried",
    "signed_in": "signed in",
    "sign_in_failed": "sign-in refused",
    "schedule_paused": "schedule paused",
    "schedule_resumed": "schedule resumed",
    "schedule_run_now": "run asked for now",
    "schedule_added": "schedule added",
    "schedule_changed": "schedule changed",
    "user_added": "person added",
    "user_disabled": "person disabled",
    "user_enabled": "person enabled",
    "password_changed": "password changed",
    "engagements_assigned": "engagements assigned",
}
"""What an audit-trail line records (`audit_trail.action`)."""


def _said(words: Mapping[str, str], code: object) -> str:
    text = "" if code is None else str(code)
    return words.get(text, text.replace("_", " "))


def _sayer(words: Mapping[str, str]) -> Callable[[object], str]:
    """The function that says a code of `words` (a template filter, a CLI column)."""
    return partial(_said, words)


rule_words = _sayer(RULE_WORDS)
field_words = _sayer(FIELD_WORDS)
step_words = _sayer(STEP_WORDS)
decision_words = _sayer(DECISION_WORDS)
decided_words = _sayer(DECIDED_WORDS)
severity_words = _sayer(SEVERITY_WORDS)
run_status_words = _sayer(RUN_STATUS_WORDS)
kind_words = _sayer(KIND_WORDS)
trail_words = _sayer(TRAIL_WORDS)


def value_words(value: object) -> str:
    """A value of an audit-trail before/after pair: lists as words, booleans as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "none"
    if value is None:
        return "–"
    return _said(RUN_STATUS_WORDS, value) if str(value) in RUN_STATUS_WORDS else str(value)


def unlabelled_rules() -> list[str]:
    """Rules of the catalogue with no words yet (a test keeps this empty)."""
    return [code for code in RULES if code not in RULE_WORDS]


FAILED_COUNTS = frozenset({"failed", "failed_system", "failed_business", "to_review"})
"""A run's counts of items it could not finish (bad data included)."""


def run_ending(status: str, counts: Mapping[str, int]) -> str:
    """The `RUN_STATUS_WORDS` key of a run: one that finished with failed items is
    `with_failures`, never plainly "finished"."""
    if str(status) == "succeeded" and any(counts.get(k, 0) for k in FAILED_COUNTS):
        return "with_failures"
    return str(status)


_LEADING_CODE = re.compile(r"([a-z][a-z0-9_]*[a-z0-9]):\s+(.+)", re.DOTALL)


def reason_and_code(text: str | None) -> tuple[str, str]:
    """A recorded reason in words and its leading code apart (`quote_search: the portal
    answered 503` -> the sentence, `quote_search`); the first line only."""
    line = (text or "").strip().split("\n")[0]
    found = _LEADING_CODE.fullmatch(line)
    if found is None or " " in found.group(1):
        return line, ""
    sentence = found.group(2)
    return sentence[:1].upper() + sentence[1:], found.group(1)


_TWICE = re.compile(r"\b([a-z][a-z0-9_]*): \1: ")
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def in_words(text: str | None) -> str:
    """A recorded reason (an event's, a run's) with the codes it names said in words:
    `flagged: term_end_mismatch` -> `flagged: Wrong term end`. Other text is kept."""

    def said(found: re.Match[str]) -> str:
        code = found.group(0)
        for words in (RULE_WORDS, STEP_WORDS, TRAIL_WORDS):
            if code in words:
                return words[code]
        return code

    # The bots sometimes lead with the code twice ("inactive_sku: inactive_sku: ...").
    text = _TWICE.sub(r"\1: ", text or "")
    return _SNAKE.sub(said, text)


def without_code(text: str | None, code: str | None) -> str:
    """A reason without the code it leads with (shown in words beside it), in words."""
    text = (text or "").strip()
    while code and text.startswith(f"{code}: "):
        text = text[len(code) + 2 :]
    return in_words(text)


_DAYS = {
    "*": "every day",
    "0-6": "every day",
    "mon-sun": "every day",
    "1-5": "Monday to Friday",
    "mon-fri": "Monday to Friday",
    "6,0": "weekends",
    "0,6": "weekends",
    "sat,sun": "weekends",
    "sat-sun": "weekends",
    # As the scheduler's trigger holds them: crontab's day numbers become day names.
    "mon,tue,wed,thu,fri": "Monday to Friday",
    "sun,sat": "weekends",
    "sun,mon,tue,wed,thu,fri,sat": "every day",
    "mon,tue,wed,thu,fri,sat,sun": "every day",
}
_DAY_NAMES = ("Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays")
for _n, _name in enumerate(_DAY_NAMES):
    _DAYS[str(_n)] = _DAYS[("sun", "mon", "tue", "wed", "thu", "fri", "sat")[_n]] = _name


def cron_words(expression: str) -> str:
    """A schedule's common forms in words ("06:00, Monday to Friday", "every 5 seconds");
    empty for the others (shown as the cron expression)."""
    parts = expression.split()
    second = "0"
    if len(parts) == 6:
        second, *parts = parts
    if len(parts) != 5:
        return ""
    minute, hour, day, month, days = parts
    every = re.fullmatch(r"\*/([0-9]+)", second)
    if every and parts == ["*"] * 5:
        return f"every {int(every.group(1))} seconds"
    if second != "0" or day != "*" or month != "*" or days not in _DAYS:
        return ""
    if minute.isdecimal() and hour.isdecimal():
        return f"{int(hour):02d}:{int(minute):02d}, {_DAYS[days]}"
    if minute.isdecimal() and hour == "*":
        return f"every hour at {int(minute):02d} minutes past, {_DAYS[days]}"
    return ""
