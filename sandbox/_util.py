"""Small helpers the portal and the generator share: money, parsing, passwords, PDFs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sandbox.models import PortalValidationError

CURRENCY_PLACES = {"USD": 2, "EUR": 2, "JPY": 0}


def places(currency: str) -> int:
    return CURRENCY_PLACES.get(currency, 2)


def round_money(value: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor units (AUDIT_SPEC's `round`)."""
    return value.quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_UP)


def money_str(value: Decimal, currency: str) -> str:
    return str(round_money(value, currency))


def parse_decimal(raw: object, field: str) -> Decimal:
    """A user-typed decimal; refuses floats' cousins (NaN, Infinity) and garbage."""
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise PortalValidationError(field, f"not a number: {text!r}") from None
    if not value.is_finite():
        raise PortalValidationError(field, f"not a number: {raw!r}")
    return value


def parse_int(raw: object, field: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    if not text.lstrip("-").isdigit():
        raise PortalValidationError(field, f"not a whole number: {text!r}")
    return int(text)


def parse_date(raw: object, field: str) -> date:
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise PortalValidationError(field, f"not a date (YYYY-MM-DD): {text!r}") from None


def optional_date(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def hash_password(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 20_000).hex()


def check_password(password: str, salt: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_password(password, salt), expected_hash)


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF with the given text lines (no dependencies)."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 720 Td 16 TL\n"
    stream += "".join(f"({esc(line)}) '\n" for line in lines) + "ET\n"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}endstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return out
