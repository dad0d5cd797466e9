"""Every exception maps to exactly one outcome, in one place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError
from pydantic import BaseModel, ValidationError

from bots import (
    BusinessError,
    EngagementRefused,
    Outcome,
    PortalError,
    SelectorDrift,
    classify,
    failure,
)


class _Row(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Row(n="x")  # type: ignore[arg-type]
    except ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("exc", "outcome", "code"),
    [
        (BusinessError("unknown_sku", "no SKU X"), Outcome.BUSINESS, "unknown_sku"),
        (_validation_error(), Outcome.BUSINESS, "unreadable_page"),
        (PortalError("http_503", "busy"), Outcome.SYSTEM, "http_503"),
        (PlaywrightError("Target closed"), Outcome.SYSTEM, "browser_error"),
        (TimeoutError("late"), Outcome.SYSTEM, "browser_error"),
        (
            ValueError("invalid literal for int() with base 10: ''"),
            Outcome.SYSTEM,
            "unexpected_error",
        ),
        (SelectorDrift("acme", "quote.total", "http://x/q/1"), Outcome.DRIFT, "selector_drift"),
        (EngagementRefused("login_refused", "login refused"), Outcome.ENGAGEMENT, "login_refused"),
        (EngagementRefused("missing_credentials", "x"), Outcome.ENGAGEMENT, "missing_credentials"),
    ],
)
def test_each_exception_has_one_outcome(exc: Exception, outcome: Outcome, code: str) -> None:
    assert classify(exc) is outcome
    assert failure(exc).code == code


def test_an_unexpected_exception_keeps_its_evidence_in_the_reason() -> None:
    found = failure(KeyError("line_sku"))
    assert found.outcome is Outcome.SYSTEM and not found.expected
    assert found.reason.startswith("KeyError: ")
