"""What a bot does with one work item, step by step, each step a recorded state change.

Exactly once: before a quote or a booking is entered, the portal is searched for the work
item's reference (the quote) or the quote's order number (the booking); the intent is
committed before the submit, completed after it; an open intent found on restart is
reconciled against the portal, never blindly repeated.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from loguru import logger

from audit.checks import check_booking, check_quote
from audit.pricing import UnpriceableError, price
from audit.sampling import sample_reason
from bots._errors import BusinessError
from bots._outcomes import Outcome, classify
from bots.portals.base import DueOpportunity, PortalBot, PortalQuote, QuoteReadBack
from schemas import Booking, ExpectedQuote, Opportunity, PricingRules, passes
from schemas.engagement import Engagement
from schemas.forecast import Renewal, Sampling
from schemas.work import Intent, IntentAction, IntentStatus, ItemState, WorkItem
from store import Store, reference

T = TypeVar("T")

QUOTE_STATES = (ItemState.NEW, ItemState.PRICED, ItemState.ENTERED)
BOOKING_STATES = (ItemState.VERIFIED,)


@dataclass
class StepContext:
    """What the steps of one worker share."""

    bot: PortalBot
    store: Store
    rules: PricingRules
    run_id: int
    worker: str
    today: date
    reconcile_grace_s: float = 10.0
    """How long a submit may still be in flight after a crash before it counts as lost."""
    other_quotes: dict[int, list[str]] = field(default_factory=dict)
    """Per item, the opportunity's other (non-draft) quotes seen while entering ours."""
    sampling: Sampling = field(default_factory=Sampling)
    """The engagement's quality-control sampling of verified quotes."""
    holder_seen: Callable[[int], datetime | None] | None = None
    """When another worker holding the item last said it was alive (the fleet's heartbeats):
    a submit it may still be making is waited for from then, not from the intent's age."""


def process_quote(ctx: StepContext, item: WorkItem) -> WorkItem:
    """new → priced → entered → verified | flagged, as far as it goes."""
    if item.state is ItemState.NEW:
        item = _price(ctx, item)
    if item.state is ItemState.PRICED:
        item = _enter_quote(ctx, item)
    if item.state is ItemState.ENTERED:
        item = _verify(ctx, item)
    return item


def process_booking(ctx: StepContext, item: WorkItem) -> WorkItem | None:
    """verified → booked when the customer's PO has arrived; None when there is none yet."""
    if item.quote_number is None:
        raise BusinessError("no_quote_number", "a verified item without a quote number")
    readback = ctx.bot.read_quote(item.quote_number)
    if readback.order_number:
        _close_intents(ctx, item, IntentAction.ENTER_BOOKING, readback.order_number)
        return _booked(ctx, item, readback)
    if readback.customer_po is None:
        return None
    po = readback.customer_po
    booking = Booking(
        quote_id=item.quote_number,
        po_number=po.po_number,
        po_date=po.po_date,
        po_amount=po.amount,
        po_currency=po.currency,
    )
    problems = [f for f in check_booking(booking, readback.snapshot, ctx.rules) if f.is_error]
    if problems:
        raise BusinessError(problems[0].rule, "; ".join(f.message for f in problems))
    if _open_intent(ctx, item, IntentAction.ENTER_BOOKING):
        time.sleep(_grace_left(ctx, item, IntentAction.ENTER_BOOKING))
        readback = ctx.bot.read_quote(item.quote_number)
        if readback.order_number:
            _close_intents(ctx, item, IntentAction.ENTER_BOOKING, readback.order_number)
            return _booked(ctx, item, readback)
        _cancel_intents(ctx, item, IntentAction.ENTER_BOOKING)
    with tempfile.TemporaryDirectory(prefix="quotebot-po-") as folder:
        pdf = ctx.bot.download_po(item.quote_number, Path(folder))
        intent = ctx.store.record_intent(
            item.id, IntentAction.ENTER_BOOKING, item.reference, run_id=ctx.run_id
        )
        number = item.quote_number
        order_number = _look_before_judging(
            "book order",
            lambda: ctx.bot.book(number, po, pdf),
            lambda: ctx.bot.read_quote(number).order_number,
        )
    ctx.store.complete_intent(intent.id, order_number)
    readback = ctx.bot.read_quote(item.quote_number)
    if readback.order_number != order_number:
        raise BusinessError(
            "order_not_shown",
            f"booked as {order_number} but the quote page shows '{readback.order_number or ''}'",
        )
    return _booked(ctx, item, readback)


def record_discovery(
    store: Store, engagement: Engagement, due: list[DueOpportunity], today: date
) -> list[DueOpportunity]:
    """Keep every listed renewal in the calendar (read ahead, for the forecast) and make a
    work item of those in the quoting window only; the ones in the window."""
    start = today + timedelta(days=engagement.window.days_from)
    end = today + timedelta(days=engagement.window.days_to)
    store.keep_renewals(
        engagement.name,
        [
            Renewal(
                engagement=engagement.name,
                opportunity_id=o.opportunity_id,
                account_name=o.account_name,
                contract_end=o.contract_end,
            )
            for o in due
            if o.contract_end is not None
        ],
    )
    in_window = [o for o in due if o.contract_end is None or start <= o.contract_end <= end]
    for opportunity in in_window:
        store.ensure_item(
            engagement.name,
            opportunity.opportunity_id,
            contract_end=opportunity.contract_end,
            account_name=opportunity.account_name,
            data={},
        )
    return in_window


def opportunity_of(item: WorkItem) -> Opportunity:
    return Opportunity.model_validate(item.data)


def _price(ctx: StepContext, item: WorkItem) -> WorkItem:
    opportunity = ctx.bot.read_opportunity(item.opportunity_id)
    item = ctx.store.ensure_item(
        item.engagement,
        item.opportunity_id,
        contract_end=opportunity.contract_end,
        account_name=opportunity.account_name,
        data=opportunity.model_dump(mode="json"),
    )
    try:
        expected = price(opportunity, ctx.rules, ctx.today)
    except UnpriceableError as exc:
        raise BusinessError(exc.code, str(exc)) from None
    _refuse_unrepresentable(ctx.bot, expected)
    return ctx.store.transition(
        item.id,
        ItemState.PRICED,
        run_id=ctx.run_id,
        worker=ctx.worker,
        data={"quote_total": str(expected.quote_total), "currency": expected.currency},
    )


def _refuse_unrepresentable(bot: PortalBot, expected: ExpectedQuote) -> None:
    """A co-termed line cannot be quoted in a portal whose quote lines have no dates of
    their own: it would be entered for the whole term, at the wrong amount."""
    if bot.carries_line_dates:
        return
    coterm = [
        line
        for line in expected.lines
        if (line.line_start, line.line_end) != (expected.term_start, expected.term_end)
    ]
    if coterm:
        lines = ", ".join(f"{line.sku} from {line.line_start}" for line in coterm)
        raise BusinessError(
            "line_dates_unsupported",
            f"{expected.opportunity_id} has co-termed lines ({lines} to {expected.term_end})"
            f" and {bot.flavour} quote lines carry no dates of their own: quote it by hand",
        )


def _expected(ctx: StepContext, item: WorkItem) -> ExpectedQuote:
    return price(opportunity_of(item), ctx.rules, ctx.today)


def _quotes_for(ctx: StepContext, item: WorkItem) -> tuple[list[PortalQuote], list[PortalQuote]]:
    """One search by opportunity: (ours, by the item's reference; everyone else's)."""
    quotes = ctx.bot.find_quotes(opportunity_id=item.opportunity_id)
    ours = [q for q in quotes if q.external_ref == item.reference]
    return ours, [q for q in quotes if q.external_ref != item.reference]


def _enter_quote(ctx: StepContext, item: WorkItem) -> WorkItem:
    ours, others = _quotes_for(ctx, item)
    if not ours and _open_intent(ctx, item, IntentAction.ENTER_QUOTE):
        time.sleep(_grace_left(ctx, item, IntentAction.ENTER_QUOTE))
        ours, others = _quotes_for(ctx, item)
        if not ours:
            _cancel_intents(ctx, item, IntentAction.ENTER_QUOTE)
    ctx.other_quotes[item.id] = [q.quote_number for q in others if _counts_as_other(item, q)]
    if len(ours) > 1:
        numbers = ", ".join(q.quote_number for q in ours)
        raise BusinessError("duplicate_in_portal", f"{item.reference} is on quotes {numbers}")
    if ours:
        quote = ours[0]
        logger.bind(item=item.reference).info("found {} in the portal", quote.quote_number)
        if quote.status == "draft":
            _submit(ctx, quote.quote_number)
        _close_intents(ctx, item, IntentAction.ENTER_QUOTE, quote.quote_number)
        number = quote.quote_number
    else:
        _refuse_foreign_quote(item, others)
        expected = _expected(ctx, item)
        intent = ctx.store.record_intent(
            item.id, IntentAction.ENTER_QUOTE, item.reference, run_id=ctx.run_id
        )
        number = _look_before_judging(
            "save quote",
            lambda: ctx.bot.save_quote(expected, item.reference),
            lambda: _our_quote_number(ctx, item),
        )
        ctx.store.complete_intent(intent.id, number)
        _submit(ctx, number)
    return ctx.store.transition(
        item.id,
        ItemState.ENTERED,
        run_id=ctx.run_id,
        worker=ctx.worker,
        data={"quote_number": number},
    )


def _submit(ctx: StepContext, number: str) -> None:
    def submit() -> bool:
        ctx.bot.submit_quote(number)
        return True

    def submitted() -> bool | None:
        return ctx.bot.read_quote(number).status != "draft" or None

    _look_before_judging("submit quote", submit, submitted)


def _our_quote_number(ctx: StepContext, item: WorkItem) -> str | None:
    ours, _ = _quotes_for(ctx, item)
    return ours[0].quote_number if len(ours) == 1 else None


def _look_before_judging(what: str, write: Callable[[], T], look: Callable[[], T | None]) -> T:
    """`write()`, a committed write's outcome; when it fails as a system failure (its answer
    lost, the page after it busy), the portal is searched as after a crash: what `look()`
    finds stands, and only when it finds nothing does the failure."""
    try:
        return write()
    except Exception as exc:
        if classify(exc) is not Outcome.SYSTEM:
            raise
        try:
            found = look()
        except Exception:
            raise exc from None
        if found is None:
            raise
        logger.info("{} failed ({}), but the portal has it: {}", what, exc, found)
        return found


def _counts_as_other(item: WorkItem, quote: PortalQuote) -> bool:
    """A duplicate for the audit: a submitted quote that is not one of this item's revisions
    (a revision an auditor sent back for correction is superseded, not a duplicate)."""
    own = quote.external_ref.startswith(reference(item.engagement, item.opportunity_id, 0))
    return quote.status != "draft" and not (own and quote.external_ref != item.reference)


def _refuse_foreign_quote(item: WorkItem, others: list[PortalQuote]) -> None:
    """A quote someone else entered for this opportunity goes to review, not a second one."""
    base = reference(item.engagement, item.opportunity_id, 0)
    for quote in others:
        if not quote.external_ref.startswith(base):
            raise BusinessError(
                "quoted_elsewhere",
                f"the portal already has quote {quote.quote_number} for {item.opportunity_id}"
                f" (reference '{quote.external_ref}')",
            )


def _verify(ctx: StepContext, item: WorkItem) -> WorkItem:
    number = item.quote_number or ""
    readback = ctx.bot.read_quote(number)
    opportunity = opportunity_of(item)
    others = ctx.other_quotes.pop(item.id, None)
    if others is None:
        others = [
            q.quote_number
            for q in ctx.bot.find_quotes(opportunity_id=item.opportunity_id)
            if q.quote_number != number and _counts_as_other(item, q)
        ]
    findings = check_quote(opportunity, readback.snapshot, ctx.rules, prior_quote_ids=others)
    expected = _expected(ctx, item)
    ctx.store.record_quote(item.id, number, expected, readback.snapshot)
    ctx.store.record_findings(item.id, findings)
    verdict = ItemState.VERIFIED if passes(findings) else ItemState.FLAGGED
    rules = sorted({f.rule for f in findings if f.is_error})
    done = ctx.store.transition(
        item.id,
        verdict,
        run_id=ctx.run_id,
        worker=ctx.worker,
        reason=", ".join(rules) if rules else None,
        data={"findings": len(findings)},
    )
    sampled = sample_reason(done.engagement, done.reference, expected.quote_total, ctx.sampling)
    if done.state is ItemState.VERIFIED and sampled:
        ctx.store.add_sample(done.id, sampled)
    return done


def _booked(ctx: StepContext, item: WorkItem, readback: QuoteReadBack) -> WorkItem:
    po = readback.customer_po
    return ctx.store.transition(
        item.id,
        ItemState.BOOKED,
        run_id=ctx.run_id,
        worker=ctx.worker,
        data={"order_number": readback.order_number, "po_number": po.po_number if po else None},
    )


def _open_intent(ctx: StepContext, item: WorkItem, action: IntentAction) -> Intent | None:
    for intent in ctx.store.intents(item.id):
        if intent.action is action and intent.status is IntentStatus.OPEN:
            return intent
    return None


def _grace_left(ctx: StepContext, item: WorkItem, action: IntentAction) -> float:
    intent = _open_intent(ctx, item, action)
    if intent is None:
        return 0.0
    since = intent.created_at
    seen = ctx.holder_seen(item.id) if ctx.holder_seen is not None else None
    if seen is not None and seen > since:
        since = seen
    age = (datetime.now(UTC) - since).total_seconds()
    return max(0.0, ctx.reconcile_grace_s - age)


def _close_intents(ctx: StepContext, item: WorkItem, action: IntentAction, portal_id: str) -> None:
    intent = _open_intent(ctx, item, action)
    if intent is not None:
        ctx.store.complete_intent(intent.id, portal_id, note="reconciled with the portal")


def _cancel_intents(ctx: StepContext, item: WorkItem, action: IntentAction) -> None:
    intent = _open_intent(ctx, item, action)
    if intent is not None:
        ctx.store.cancel_intent(intent.id, "not found in the portal: the submit never happened")
