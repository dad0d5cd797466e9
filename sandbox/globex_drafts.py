"""The editor's scratch drafts: lines being typed, kept server-side between page reloads.

Like a legacy portal's server session state, the lines of a quote being edited live on
the server until the user presses Save (then `Portal.save_quote` makes them a real draft
quote). Each editor page carries its scratch draft's token in a hidden field.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from fastapi import Request

from sandbox.portal import Quote

MAX_DRAFTS = 2000  # oldest are forgotten beyond this: a sandbox, not a memory leak
_create_lock = threading.Lock()


@dataclass
class DraftLine:
    sku: str
    quantity: int
    unit_price: Decimal
    line_start: date | None = None
    """The line's own period as typed; None: the quote's term."""
    line_end: date | None = None


@dataclass
class Draft:
    """One editor's state: which opportunity or quote, and the lines typed so far."""

    token: str
    owner: str
    opportunity_id: str
    quote_number: str | None
    lines: list[DraftLine] = field(default_factory=list)
    dirty: bool = False  # lines changed since the last load or save
    touched: float = field(default_factory=time.monotonic)


class DraftStore:
    """Scratch drafts by token; thread-safe (handlers run in a thread pool)."""

    def __init__(self) -> None:
        self._drafts: dict[str, Draft] = {}
        self._lock = threading.Lock()

    def new(self, owner: str, opportunity_id: str, quote: Quote | None = None) -> Draft:
        draft = Draft(secrets.token_urlsafe(16), owner, opportunity_id, None)
        if quote is not None:
            draft.quote_number = quote.quote_number
            draft.lines = [
                DraftLine(
                    ln.sku,
                    ln.quantity,
                    ln.unit_price,
                    None if ln.line_start == quote.term_start else ln.line_start,
                    None if ln.line_end == quote.term_end else ln.line_end,
                )
                for ln in quote.lines
            ]
        with self._lock:
            self._drafts[draft.token] = draft
            if len(self._drafts) > MAX_DRAFTS:
                oldest = min(self._drafts.values(), key=lambda d: d.touched)
                del self._drafts[oldest.token]
        return draft

    def get(self, owner: str, token: str) -> Draft | None:
        """The owner's draft with this token (a user never sees another user's lines)."""
        with self._lock:
            draft = self._drafts.get(token)
            if draft is None or draft.owner != owner:
                return None
            draft.touched = time.monotonic()
            return draft


def draft_store(request: Request) -> DraftStore:
    """The app's draft store, created on first use (the core's app knows nothing of it)."""
    state = request.app.state
    store: DraftStore | None = getattr(state, "globex_drafts", None)
    if store is None:
        with _create_lock:
            store = getattr(state, "globex_drafts", None)
            if store is None:
                store = state.globex_drafts = DraftStore()
    return store
