"""Sending one notice: by SMTP (STARTTLS, TLS or plain on a trusted network) or as a webhook
signed as the Standard Webhooks specification says. Each send answers a `Sent`: done,
try again, or stop that endpoint (410 Gone)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from alerts._compose import html_text, plain_text, subject
from alerts._config import Channels
from schemas.alerts import shown
from schemas.settings import AlertSettings


@dataclass(frozen=True)
class Sent:
    """What the other end answered, in words, and what that means for the notice."""

    ok: bool
    answer: str
    gone: bool = False
    """The endpoint answered 410 Gone: send nothing more there."""


def send_email(channels: Channels, to: str, message_id: str, payload: dict[str, Any]) -> Sent:
    config = channels.settings
    message = EmailMessage()
    message["Subject"] = subject(payload)
    message["From"] = config.sender
    message["To"] = to
    message["Message-ID"] = make_msgid(idstring=message_id, domain="quotebot")
    message.set_content(plain_text(payload))
    message.add_alternative(html_text(payload), subtype="html")
    host = config.smtp_host or ""
    try:
        if config.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host,
                config.smtp_port,
                timeout=config.timeout_s,
                context=_tls(config),
            )
        else:
            smtp = smtplib.SMTP(host, config.smtp_port, timeout=config.timeout_s)
        with smtp:
            if config.smtp_security == "starttls":
                smtp.starttls(context=_tls(config))
            if channels.smtp_user and channels.smtp_password:
                smtp.login(channels.smtp_user, channels.smtp_password.get_secret_value())
            smtp.send_message(message)
    except smtplib.SMTPResponseException as exc:
        return Sent(False, f"the mail server {host} refused: {exc.smtp_code} {_text(exc)}")
    except (OSError, smtplib.SMTPException) as exc:
        return Sent(False, f"the mail server {host} could not be reached: {_reason(exc)}")
    return Sent(True, f"the mail server {host} accepted it for {to}")


def _tls(config: AlertSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.smtp_ca_file)


def sign(key: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature`: v1, then base64 HMAC-SHA256 of `id.timestamp.body`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(base64.b64decode(key), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def send_webhook(channels: Channels, url: str, message_id: str, payload: dict[str, Any]) -> Sent:
    assert channels.webhook_key is not None, "webhook URLs without a secret are refused at start"
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                channels.webhook_key.get_secret_value(), message_id, timestamp, body
            ),
        },
    )
    where = shown(url)
    try:
        with urllib.request.urlopen(request, timeout=channels.settings.timeout_s) as response:
            return Sent(True, f"{where} answered {response.status} {response.reason}")
    except urllib.error.HTTPError as exc:
        answer = f"{where} answered {exc.code} {exc.reason}"
        return Sent(False, answer, gone=exc.code == 410)
    except (OSError, ValueError) as exc:
        return Sent(False, f"{where} could not be reached: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    return getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__


def _text(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)
