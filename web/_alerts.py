"""Operations' alerts: what is wrong now and lately, per engagement, and what was sent
where; acknowledge one with a note, silence an engagement's notices for a while (both in
the audit trail). Managers read it; only operations act."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from schemas.alerts import (
    CHANNEL_LABELS,
    NOTICE_LABELS,
    Alert,
    Channel,
    Delivery,
    DeliveryStatus,
    shown,
)
from store import UnknownRecord
from web._deps import Id, Operator, SignedIn, render, store_of

router = APIRouter()

RECENT = timedelta(days=7)
"""Resolved alerts stay on the page this long."""
SILENCES = {"1": "1 hour", "4": "4 hours", "12": "12 hours", "24": "1 day", "72": "3 days"}
"""The silences operations may choose, in hours, as the form offers them."""
STATUS_WORDS = {
    DeliveryStatus.PENDING: "waiting to be sent",
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.STOPPED: "not sent: the endpoint is gone",
}


def when(at: datetime | None) -> str:
    """A time as people read it on this page."""
    return at.strftime("%d %b %Y, %H:%M UTC") if at else ""


def sent_words(delivery: Delivery) -> str:
    """One line of "what was sent where"."""
    if delivery.channel is Channel.EMAIL:
        where = f"{CHANNEL_LABELS[delivery.channel]} to {delivery.target}"
    else:
        where = f"{CHANNEL_LABELS[delivery.channel]} {shown(delivery.target)}"
    status = STATUS_WORDS[delivery.status]
    at = when(delivery.sent_at) if delivery.sent_at else ""
    tries = f", after {delivery.attempts} tries" if delivery.attempts > 1 else ""
    why = f" ({delivery.last_error})" if delivery.last_error and not delivery.sent_at else ""
    return f"{NOTICE_LABELS[delivery.kind]}: {where}, {status} {at}{tries}{why}".strip()


@router.get("/alerts")
def alerts_page(request: Request, user: SignedIn) -> Response:
    store = store_of(request)
    now = store.now()
    alerts = store.alerts(engagements=user.scope, since=now - RECENT)
    sent: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in store.deliveries([a.id for a in alerts]):
        sent[delivery.alert_id].append(delivery)
    by_engagement: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_engagement[alert.engagement or "the fleet"].append(alert)
    silences = [s for s in store.silences() if user.sees(s.engagement)]
    engagements = [e.name for e in store.engagements() if user.sees(e.name)]
    return render(
        request,
        "alerts.html",
        user=user,
        groups=sorted(by_engagement.items()),
        sent=sent,
        silences=silences,
        silenced_names={s.engagement for s in silences},
        engagements=engagements,
        choices=SILENCES,
        when=when,
        sent_words=sent_words,
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    user: Operator, request: Request, alert_id: Id, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    """Someone takes the alert in hand, with a note saying what they do about it."""
    store = store_of(request)
    try:
        alert = store.alert(alert_id)
    except UnknownRecord:
        alert = None
    if alert is None or not (alert.engagement == "" or user.sees(alert.engagement)):
        message = f"There is no alert {alert_id}."
        return render(request, "error.html", 404, user=user, title="No such alert", message=message)
    if not note.strip():
        return _back("note", "Say in the note what you are doing about it.")
    store.acknowledge_alert(alert_id, user.name, note.strip())
    return _back("acknowledged", f"Acknowledged: {alert.rule.label}, {alert.engagement}.")


@router.post("/alerts/silence")
def silence(
    user: Operator,
    request: Request,
    engagement: Annotated[str, Form(max_length=64)] = "",
    hours: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """No notices for an engagement's alerts for a while; the page still shows them."""
    store = store_of(request)
    known = {e.name for e in store.engagements() if user.sees(e.name)}
    if engagement not in known:
        return _back("silence", "Choose one of your engagements to silence.")
    if hours not in SILENCES:
        return _back("silence", "Choose how long to silence it for.")
    if not note.strip():
        return _back("silence", "Say in the note why it is silenced.")
    until = store.now() + timedelta(hours=int(hours))
    store.silence(engagement, until, user.name, note.strip())
    return _back("silenced", f"{engagement} is silenced until {when(until)}.")


def _back(what: str, message: str) -> Response:
    return RedirectResponse(f"/alerts?{what}={quote(message)}", status_code=303)
