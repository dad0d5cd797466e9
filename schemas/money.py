"""Money as the audit team reads it: exact decimals, half-up rounding, fixed places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DEFAULT_PLACES = 2
RATE_PLACES = 6
"""Most decimal places a rate (uplift, discount) may have; rates are scaled to integers."""


def round_half_up(value: Decimal, places: int) -> Decimal:
    """`round(x)` of AUDIT_SPEC: half away from zero, to `places` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_money(value: Decimal, places: int) -> str:
    """The text of an amount in findings: exactly `places` decimals, never `-0.00`."""
    rounded = round_half_up(value, places)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:f}"


def decimal_places(value: Decimal) -> int:
    """How many decimals `value` is written with (`1200.50` -> 2, `1E+2` -> 0)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "finite decimals only"
    return max(0, -exponent)


def format_amount(value: Decimal, places: int) -> str:
    """The text of an amount as read (portal, CSV): `places` decimals, or more when the
    value has more (`930340.34` in JPY is shown as it is, not rounded away)."""
    if decimal_places(value.normalize()) <= places:
        return format_money(value, places)
    return f"{value.normalize():f}"


CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "KWD": 3, "BHD": 3}
"""Minor units of the currencies that do not have two (ISO 4217); every other has two."""


def currency_places(currency: str) -> int:
    return CURRENCY_PLACES.get(currency.upper(), DEFAULT_PLACES)


def show_money(value: Decimal | str | None, currency: str | None, *, signed: bool = False) -> str:
    """An amount as people read it, always with its currency: `USD 1,234.50`, `JPY 325,920`
    (`signed`: `USD +11,368.40`). More decimals than the currency has are kept, never
    rounded away (`JPY 930,340.34` as the portal holds it); unreadable text is shown as is."""
    if value is None or value == "":
        return "–"
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return f"{currency or ''} {value}".strip()
    if not amount.is_finite():
        return f"{currency or ''} {value}".strip()
    places = currency_places(currency or "")
    places = max(places, decimal_places(amount.normalize()))
    amount = round_half_up(amount, places)
    if amount == 0:
        amount = abs(amount)
    number = f"{amount:{'+' if signed else ''},.{places}f}"
    return f"{currency} {number}" if currency else number
