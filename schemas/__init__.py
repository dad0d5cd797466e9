"""Pydantic models of everything that flows through quotebot. No I/O."""

from schemas.booking import Booking
from schemas.errors import InputError, RulesError
from schemas.findings import RULES, Finding, passes
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import ExpectedLine, ExpectedQuote, QuoteLineSnapshot, QuoteSnapshot
from schemas.rules import PriceBookEntry, PricingRules, TermDiscount, VolumeTier, load_rules
from schemas.settings import Settings

__all__ = [
    "RULES",
    "Booking",
    "ExpectedLine",
    "ExpectedQuote",
    "Finding",
    "InputError",
    "Opportunity",
    "OpportunityLine",
    "PriceBookEntry",
    "PricingRules",
    "QuoteLineSnapshot",
    "QuoteSnapshot",
    "RulesError",
    "Settings",
    "TermDiscount",
    "VolumeTier",
    "load_rules",
    "passes",
]
