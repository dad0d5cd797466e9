"""A client's pricing rules (one YAML file per client), validated before anything is priced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from schemas._base import Record
from schemas._yaml import key_line, load_yaml
from schemas.errors import RulesError
from schemas.money import DEFAULT_PLACES, RATE_PLACES, decimal_places

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Rate = Annotated[Decimal, Field(ge=-1, le=1, allow_inf_nan=False, decimal_places=RATE_PLACES)]
Discount = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False, decimal_places=RATE_PLACES)]


class PriceBookEntry(Record):
    """One price book line: the annual list price per unit of a sku in a currency."""

    sku: Annotated[str, Field(min_length=1)]
    family: Annotated[str, Field(min_length=1)]
    currency: Currency
    list_price: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    active: bool = True


class VolumeTier(Record):
    min_qty: Annotated[int, Field(ge=1)]
    discount: Discount


class TermDiscount(Record):
    min_months: Annotated[int, Field(ge=1, le=60)]
    discount: Discount


PriceMethod = Literal["uplift", "same", "list"]
Proration = Literal["month_day", "month", "day"]


class AccountRules(Record):
    """What one account prices differently from the client's default."""

    price_method: PriceMethod


class ContractedPrice(Record):
    """A price hold agreed with one customer: its unit price of a sku over a period."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    account_id: Annotated[str, Field(min_length=1)]
    sku: Annotated[str, Field(min_length=1)]
    currency: Currency
    unit_price: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
    from_: Annotated[date, Field(alias="from")]
    until: date

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= self.until


def _tier_discount(thresholds: list[tuple[int, Decimal]], value: int) -> Decimal:
    """The discount of the highest tier `value` reaches (0 below the first tier)."""
    reached = [discount for minimum, discount in thresholds if value >= minimum]
    return reached[-1] if reached else Decimal(0)


class PricingRules(Record):
    """How one client prices renewals: AUDIT_SPEC's rules file."""

    client: Annotated[str, Field(min_length=1)]
    currency_places: dict[Currency, Annotated[int, Field(ge=0, le=6)]] = {}
    price_book: tuple[PriceBookEntry, ...]
    uplift: dict[str, Rate]
    cap_at_list: bool = True
    volume_tiers: tuple[VolumeTier, ...] = ()
    term_discounts: tuple[TermDiscount, ...] = ()
    max_discount: dict[str, Discount]
    lead_days: Annotated[int, Field(ge=0)]
    validity_days: Annotated[int, Field(ge=0)]
    tolerance: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)
    renewal_price_method: PriceMethod = "uplift"
    accounts: dict[str, AccountRules] = {}
    contracted_prices: tuple[ContractedPrice, ...] = ()
    proration: Proration = "month_day"
    _book: dict[tuple[str, str], PriceBookEntry] = PrivateAttr(default_factory=dict)
    _holds: dict[tuple[str, str, str], list[ContractedPrice]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._book = {(e.sku, e.currency): e for e in self.price_book}
        for hold in self.contracted_prices:
            self._holds.setdefault((hold.account_id, hold.sku, hold.currency), []).append(hold)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "default" not in self.uplift:
            raise ValueError("uplift.default: missing (the uplift of families not listed)")
        seen: set[tuple[str, str]] = set()
        for i, entry in enumerate(self.price_book):
            if (entry.sku, entry.currency) in seen:
                raise ValueError(f"price_book.{i}.sku: {entry.sku} {entry.currency} listed twice")
            seen.add((entry.sku, entry.currency))
            places = self.places(entry.currency)
            if decimal_places(entry.list_price) > places:
                raise ValueError(
                    f"price_book.{i}.list_price: {entry.list_price} has more than {places} "
                    f"decimal places for {entry.currency}"
                )
        _check_holds(self.contracted_prices)
        for name, minima in (
            ("volume_tiers", [t.min_qty for t in self.volume_tiers]),
            ("term_discounts", [t.min_months for t in self.term_discounts]),
        ):
            for i in range(1, len(minima)):
                if minima[i] <= minima[i - 1]:
                    field = "min_qty" if name == "volume_tiers" else "min_months"
                    raise ValueError(
                        f"{name}.{i}.{field}: tiers must be sorted and not overlap "
                        f"({minima[i]} after {minima[i - 1]})"
                    )
        return self

    def places(self, currency: str) -> int:
        """Decimal places of `currency` (its minor units), 2 unless the rules say otherwise."""
        return self.currency_places.get(currency, DEFAULT_PLACES)

    def entry(self, sku: str, currency: str) -> PriceBookEntry | None:
        """The price book entry for `(sku, currency)`, active or not; None if there is none."""
        return self._book.get((sku, currency))

    def price_method(self, account_id: str) -> PriceMethod:
        """The account's renewal price method: its override, else the client's."""
        override = self.accounts.get(account_id)
        return override.price_method if override else self.renewal_price_method

    def contracted(
        self, account_id: str, sku: str, currency: str, line_start: date
    ) -> ContractedPrice | None:
        """The price hold covering `line_start` for the account's sku, if any."""
        holds = self._holds.get((account_id, sku, currency), ())
        return next((hold for hold in holds if hold.covers(line_start)), None)

    def uplift_for(self, family: str) -> Decimal:
        return self.uplift.get(family, self.uplift["default"])

    def volume_discount(self, quantity: int) -> Decimal:
        return _tier_discount([(t.min_qty, t.discount) for t in self.volume_tiers], quantity)

    def term_discount(self, months: int) -> Decimal:
        return _tier_discount([(t.min_months, t.discount) for t in self.term_discounts], months)


def _check_holds(holds: tuple[ContractedPrice, ...]) -> None:
    """Each hold's period runs forwards; one customer's holds of a sku never overlap."""
    seen: dict[tuple[str, str, str], list[tuple[int, ContractedPrice]]] = {}
    for i, hold in enumerate(holds):
        if hold.until < hold.from_:
            raise ValueError(
                f"contracted_prices.{i}.until: {hold.until} is before its from {hold.from_}"
            )
        key = (hold.account_id, hold.sku, hold.currency)
        for j, other in seen.get(key, []):
            if hold.from_ <= other.until and other.from_ <= hold.until:
                raise ValueError(
                    f"contracted_prices.{i}.from: {hold.account_id} {hold.sku} {hold.currency} "
                    f"overlaps contracted_prices.{j} ({other.from_} to {other.until})"
                )
        seen.setdefault(key, []).append((i, hold))


def _error_key(error: ErrorDetails) -> tuple[str, str]:
    """`(dotted key, message)` of one pydantic error, e.g. `("price_book.2.list_price", ...)`."""
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"])
    if error["type"] == "value_error" and ": " in message:
        # Our model validator names the key at the start of its message.
        key, _, message = message.removeprefix("Value error, ").partition(": ")
        return ".".join([*loc, key]) if loc else key, message
    if error["type"] == "extra_forbidden":
        return ".".join(loc), "unknown key"
    if error["type"] == "missing":
        return ".".join(loc), "missing"
    return ".".join(loc), f"{message} (got {error.get('input')!r})"


def load_rules(path: str | Path) -> PricingRules:
    """Read and validate a client's rules file; a `RulesError` names the file and the key."""
    document, text = load_yaml(path)
    try:
        return PricingRules.model_validate(document)
    except ValidationError as exc:
        # A typo'd key also makes the real key "missing": name the typo first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        key, message = _error_key(errors[0])
        raise RulesError(path, key, message, key_line(text, key)) from None
