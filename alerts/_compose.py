"""What a notice says: the webhook's JSON, and the e-mail's subject, plain text and HTML,
all from the one payload stored in the outbox (so a retry sends the same words)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from schemas.alerts import NOTICE_LABELS, Alert, NoticeKind
from schemas.settings import AlertSettings


def composer(settings: AlertSettings) -> Any:
    """`Store.observe_alerts`' `compose`: the payload of a notice about an alert."""

    def compose(alert: Alert, kind: NoticeKind, message_id: str) -> dict[str, Any]:
        return {
            "type": f"alert.{kind.value}",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": {
                "id": message_id,
                "alert": alert.id,
                "engagement": alert.engagement,
                "rule": alert.rule.value,
                "cause": alert.rule.label,
                "subject": alert.subject,
                "summary": alert.summary,
                "status": NOTICE_LABELS[kind],
                "opened_at": alert.opened_at.isoformat(timespec="seconds"),
                "link": settings.pages_url.rstrip("/") + alert.link,
            },
        }

    return compose


def subject(payload: dict[str, Any]) -> str:
    data = payload["data"]
    where = data["engagement"] or "the fleet"
    return f"[quotebot] {data['cause']} - {where} ({data['status']})"


def plain_text(payload: dict[str, Any]) -> str:
    data = payload["data"]
    lines = [
        subject(payload),
        "",
        data["summary"],
        "",
        f"Open since: {_readable(data['opened_at'])}",
        f"What it is about: {data['link']}",
    ]
    if payload["type"] == "alert.resolved":
        lines[2:3] = ["This has cleared:", data["summary"]]
    return "\n".join(lines) + "\n"


def html_text(payload: dict[str, Any]) -> str:
    data = payload["data"]
    cleared = "<p>This has cleared:</p>" if payload["type"] == "alert.resolved" else ""
    link = html.escape(data["link"])
    return (
        f"<html><body><h2>{html.escape(subject(payload))}</h2>{cleared}"
        f"<p>{html.escape(data['summary'])}</p>"
        f"<p>Open since {html.escape(_readable(data['opened_at']))}.</p>"
        f'<p><a href="{link}">What it is about</a></p></body></html>'
    )


def _readable(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d %b %Y at %H:%M UTC")
