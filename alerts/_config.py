"""The alerts' channels as the settings and the secrets file configure them, checked once:
a bad setting is an error naming it, at start and at `quotebot alerts test`."""

from __future__ import annotations

import base64
import binascii
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from common.secrets_file import SecretsFileError, read_secrets_file
from schemas.alerts import Channel
from schemas.settings import AlertSettings, Settings


class AlertConfigError(ValueError):
    """Raised when an alerts setting or secret cannot be used; the message names it."""


@dataclass(frozen=True)
class Channels:
    """Where notices go, with the secrets to send them (never shown: `repr` hides them)."""

    settings: AlertSettings
    smtp_user: str | None = None
    smtp_password: SecretStr | None = field(default=None, repr=False)
    webhook_key: SecretStr | None = field(default=None, repr=False)
    """The webhook secret's key bytes, base64 (the part after `whsec_`)."""

    def targets(self, engagement: str) -> list[tuple[Channel, str]]:
        """Every address and endpoint that hears of an engagement's alerts."""
        out: list[tuple[Channel, str]] = []
        if self.settings.smtp_host:
            extra = self.settings.engagement_recipients.get(engagement, ())
            for address in dict.fromkeys([*self.settings.recipients, *extra]):
                out.append((Channel.EMAIL, address))
        out += [(Channel.WEBHOOK, url) for url in self.settings.webhook_urls]
        return out

    def secrets(self) -> list[str]:
        """The values that must never appear in a log, a page or a notice."""
        found = [self.smtp_password, self.webhook_key]
        return [s.get_secret_value() for s in found if s is not None]


def load_channels(settings: Settings) -> Channels:
    """The channels, their secrets read from the environment or the secrets file."""
    config = settings.alerts
    found = {**_secrets_file(settings.secrets_file), **os.environ}
    user = password = key = None
    if config.smtp_host:
        if config.smtp_host.strip() != config.smtp_host or " " in config.smtp_host:
            raise AlertConfigError(f"alerts.smtp_host: {config.smtp_host!r} is not a host name")
        if not config.recipients and not config.engagement_recipients:
            raise AlertConfigError("alerts.recipients: an SMTP host is set but no one to write to")
        user = found.get(config.smtp_user_secret) or None
        if user is not None:
            if config.smtp_password_secret not in found:
                raise AlertConfigError(
                    f"alerts.smtp_password_secret: {config.smtp_password_secret} is not set in "
                    "the environment or the secrets file (the SMTP user is)"
                )
            password = SecretStr(found[config.smtp_password_secret])
    if config.webhook_urls:
        key = SecretStr(_webhook_key(config.webhook_secret, found.get(config.webhook_secret)))
    return Channels(config, user, password, key)


def _webhook_key(name: str, secret: str | None) -> str:
    """The key of a Standard Webhooks secret (`whsec_` and 24 to 64 bytes in base64)."""
    if secret is None:
        raise AlertConfigError(
            f"alerts.webhook_secret: {name} is not set in the environment or the secrets file"
        )
    if not secret.startswith("whsec_"):
        raise AlertConfigError(f"alerts.webhook_secret: {name} does not start with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise AlertConfigError(
            f"alerts.webhook_secret: {name} is not base64 after whsec_"
        ) from None
    if not 24 <= len(key) <= 64:
        raise AlertConfigError(
            f"alerts.webhook_secret: {name} is too short or too long ({len(key)} bytes; "
            "Standard Webhooks asks 24 to 64)"
        )
    return secret.removeprefix("whsec_")


def reachable(settings: AlertSettings) -> None:
    """The SMTP host answers on its port; `AlertConfigError` naming the setting if not."""
    if not settings.smtp_host:
        return
    try:
        with socket.create_connection(
            (settings.smtp_host, settings.smtp_port), timeout=settings.timeout_s
        ):
            pass
    except OSError as exc:
        raise AlertConfigError(
            f"alerts.smtp_host: {settings.smtp_host}:{settings.smtp_port} cannot be reached "
            f"({exc.strerror or type(exc).__name__})"
        ) from None


def _secrets_file(path: Path | None) -> dict[str, str]:
    """The secrets file's values; a bad one names the setting, the file and the line only."""
    try:
        return read_secrets_file(path)
    except SecretsFileError as exc:
        raise AlertConfigError(f"secrets_file: {exc}") from None
