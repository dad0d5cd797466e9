"""`quotebot alerts test`: one message on every configured channel, and what each answered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alerts._compose import composer
from alerts._config import load_channels, reachable
from alerts._send import Sent, send_email, send_webhook, shown
from schemas.alerts import Alert, AlertRule, AlertState, Channel, NoticeKind
from schemas.settings import Settings


def send_test(settings: Settings) -> list[tuple[str, Sent]]:
    """Send a test notice everywhere; `AlertConfigError` first for a bad setting."""
    channels = load_channels(settings)
    reachable(settings.alerts)
    now = datetime.now(UTC)
    alert = Alert(
        id=0,
        key="|test|",
        engagement="",
        rule=AlertRule.RUN_STOPPED,
        subject="test",
        summary="A test message from quotebot: this channel works.",
        link="/alerts",
        state=AlertState.OPEN,
        opened_at=now,
        last_seen_at=now,
        resolved_at=None,
        notified_at=now,
    )
    answers = []
    for channel, target in channels.targets(""):
        message_id = f"msg_test_{uuid.uuid4().hex}"
        payload = composer(settings.alerts)(alert, NoticeKind.FIRING, message_id)
        payload["type"] = "alert.test"
        if channel is Channel.EMAIL:
            answers.append(
                (f"e-mail to {target}", send_email(channels, target, message_id, payload))
            )
        else:
            answers.append(
                (f"webhook {shown(target)}", send_webhook(channels, target, message_id, payload))
            )
    return answers
