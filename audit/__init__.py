"""Pricing engine and audit checks: expected quotes, findings, batch audit of exported files.

For a bot, after reading a quote back: `price`, `check_quote`, `check_booking`, `passes`.
For a client's whole book: `audit.batch.audit_files`; for a pricing change:
`audit.rules_diff.diff_files`; the exact vectorised arithmetic both use: `audit.vectorised`
(these import pandas, so they are not re-exported here).
"""

from audit.checks import check_booking, check_quote, passes
from audit.pricing import UnpriceableError, price

__all__ = ["UnpriceableError", "check_booking", "check_quote", "passes", "price"]
