"""Real receivers for the alerts' tests: an SMTP server (aiosmtpd) and an HTTP endpoint that
checks every webhook with the reference `standardwebhooks` library, both on 127.0.0.1."""

from __future__ import annotations

import base64
import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"quotebot-test-webhook-key-32-bytes!").decode()
SMTP_USER, SMTP_PASSWORD = "alerts-bot", "smtp-s3cret-pass"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted, as parsed messages, and the logins it saw."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(m["Subject"]) for m in self.messages]


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the mail server's; quotebot trusts it as
    a company's own CA through `alerts.smtp_ca_file`)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[Mailbox, int, Path]]:
    """An SMTP server offering STARTTLS and wanting the test user's login over it; yields
    the mailbox, the port and the certificate to trust."""
    box = Mailbox()
    cert, key = certificate(folder)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            box.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        tls_context=tls,
        require_starttls=True,
    )
    controller.start()
    try:
        yield box, port, cert
    finally:
        controller.stop()


@dataclass
class Received:
    """One webhook call as it came: headers, body, and whether the verifier accepted it."""

    headers: dict[str, str]
    body: bytes
    valid: bool


class Receiver:
    """An HTTP endpoint on a fixed port that can be stopped and started again, or told to
    answer 410 Gone; every call is checked with `standardwebhooks.Webhook.verify`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.calls: list[Received] = []
        self.answer = 204
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/quotebot?token=abc"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.calls.append(Received(headers, body, verify(headers, body)))
                    answer = receiver.answer
                self.send_response(answer)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def valid(self) -> list[Received]:
        with self.lock:
            return [c for c in self.calls if c.valid]


def verify(headers: dict[str, str], body: bytes) -> bool:
    """The reference library's verdict (signature and a timestamp within five minutes)."""
    try:
        Webhook(SECRET).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


@contextmanager
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def alert_env(smtp_port: int, cert: Path, endpoint: Receiver) -> dict[str, str]:
    """`QUOTEBOT_ALERTS__*` for the receivers, secrets as the secrets file would hold them."""
    return {
        "QUOTEBOT_ALERTS__SMTP_HOST": "127.0.0.1",
        "QUOTEBOT_ALERTS__SMTP_PORT": str(smtp_port),
        "QUOTEBOT_ALERTS__SMTP_SECURITY": "starttls",
        "QUOTEBOT_ALERTS__SMTP_CA_FILE": str(cert),
        "QUOTEBOT_ALERTS__RECIPIENTS": '["ops@example.com"]',
        "QUOTEBOT_ALERTS__WEBHOOK_URLS": f'["{endpoint.url}"]',
        "QUOTEBOT_ALERTS__FIRST_WAIT_S": "0.2",
        "QUOTEBOT_ALERTS__MAX_WAIT_S": "1",
    }


def secrets_lines() -> str:
    return (
        f"QUOTEBOT_SMTP_USER={SMTP_USER}\nQUOTEBOT_SMTP_PASSWORD={SMTP_PASSWORD}\n"
        f"QUOTEBOT_WEBHOOK_SECRET={SECRET}\n"
    )


def alert_settings(home: Path, smtp_port: int, cert: Path, endpoint: Receiver, **alerts: object):  # type: ignore[no-untyped-def]
    """Settings whose alerts go to the receivers, secrets in a secrets file in `home`."""
    from schemas.settings import Settings

    home.mkdir(parents=True, exist_ok=True)
    secrets = home / "secrets.env"
    secrets.write_text(secrets_lines(), encoding="utf-8")
    env = alert_env(smtp_port, cert, endpoint)
    config = {k.removeprefix("QUOTEBOT_ALERTS__").lower(): v for k, v in env.items()}
    config |= {"recipients": ["ops@example.com"], "webhook_urls": [endpoint.url], **alerts}
    return Settings(home=home, secrets_file=secrets, alerts=config)  # type: ignore[arg-type]


def process_env(
    home: Path, portal: dict[str, str], smtp_port: int, cert: Path, endpoint: Receiver
) -> dict[str, str]:
    """The environment of a quotebot process whose alerts go to the receivers, looked at
    every second, its secrets in a secrets file beside `home`."""
    import os

    secrets = home.parent / "secrets.env"
    secrets.write_text(secrets_lines(), encoding="utf-8")
    return {
        **os.environ,
        **portal,
        **alert_env(smtp_port, cert, endpoint),
        "QUOTEBOT_HOME": str(home),
        "QUOTEBOT_SECRETS_FILE": str(secrets),
        "QUOTEBOT_ALERTS__EVALUATE_EVERY_S": "1",
    }
