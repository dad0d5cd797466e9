"""The work-item state machine and the reference stamped into the portal."""

from __future__ import annotations

from collections.abc import Mapping

from schemas.work import ItemState

_S = ItemState

ALLOWED_TRANSITIONS: Mapping[ItemState, frozenset[ItemState]] = {
    _S.NEW: frozenset({_S.PRICED, _S.FAILED}),
    _S.PRICED: frozenset({_S.ENTERED, _S.FAILED}),
    _S.ENTERED: frozenset({_S.VERIFIED, _S.FLAGGED, _S.FAILED}),
    # An auditor accepts a flagged quote (→ verified) or sends it back for correction (→ priced).
    _S.FLAGGED: frozenset({_S.VERIFIED, _S.PRICED, _S.FAILED}),
    # An auditor disagrees with a sampled verified quote: back to the bot (→ priced).
    _S.VERIFIED: frozenset({_S.BOOKED, _S.PRICED, _S.FAILED}),
    _S.BOOKED: frozenset(),
    # Operations retry a failed item from the start.
    _S.FAILED: frozenset({_S.NEW}),
}


def allowed(from_state: ItemState, to_state: ItemState) -> bool:
    return to_state in ALLOWED_TRANSITIONS[from_state]


def reference(engagement: str, opportunity_id: str, revision: int) -> str:
    """`QB-<engagement>-<opportunity>`, with `-R<n>` once an auditor sent the quote back n times."""
    base = f"QB-{engagement}-{opportunity_id}"
    return f"{base}-R{revision}" if revision else base
