"""Logged-in browser contexts for one portal: login, TOTP, transparent re-login.

Logging in happens in a throwaway context that is never traced or screenshotted, and
only its cookies are handed to the working context: the password and the TOTP code are
never typed where a trace or a screenshot could record them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urljoin, urlparse

import pyotp
from loguru import logger
from playwright.sync_api import Browser, BrowserContext
from playwright.sync_api import Error as PlaywrightError
from pydantic import SecretStr

from bots._errors import BusinessError, PortalError
from schemas.errors import first_line
from schemas.selector_map import SelectorMap

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam


@dataclass(frozen=True)
class Credentials:
    """A portal login; `repr` never shows the secrets."""

    username: str
    password: SecretStr
    totp_secret: SecretStr | None = None

    @classmethod
    def from_env(
        cls,
        user_var: str,
        password_var: str,
        totp_var: str | None,
        *,
        secrets_file: Path | None = None,
    ) -> Credentials:
        """Read the login from the environment variables an engagement names, or, for a
        name the environment does not set, from the secrets file (`NAME=value` lines)."""
        found = {**read_secrets_file(secrets_file), **os.environ}
        missing = [v for v in (user_var, password_var) if not found.get(v)]
        if totp_var and not found.get(totp_var):
            missing.append(totp_var)
        if missing:
            where = "environment variables" + (f" or {secrets_file}" if secrets_file else "")
            raise BusinessError(
                "missing_credentials", f"not set in the {where}: {', '.join(missing)}"
            )
        totp = SecretStr(found[totp_var]) if totp_var else None
        return cls(found[user_var], SecretStr(found[password_var]), totp)

    def secrets(self) -> list[str]:
        """The values that must never appear in logs, traces or screenshots."""
        values = [self.password.get_secret_value()]
        if self.totp_secret is not None:
            values.append(self.totp_secret.get_secret_value())
        return values


def read_secrets_file(path: Path | None) -> dict[str, str]:
    """`NAME=value` lines (blank lines and `#` comments skipped); {} without a file.

    A line that is not `NAME=value` is an error naming the file and line, never its text
    (it may hold a secret).
    """
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BusinessError("missing_credentials", f"{path}: cannot read: {exc.strerror}") from None
    values = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise BusinessError("missing_credentials", f"{path}:{number}: not NAME=value")
        values[name.strip()] = value.strip()
    return values


def is_login_url(url: str, selector_map: SelectorMap) -> bool:
    """True when the portal sent us to its login page (the session has expired)."""
    login_path = selector_map.page("login").url or "/login"
    return urlparse(url).path.rstrip("/") == login_path.rstrip("/")


def login(
    browser: Browser,
    context: BrowserContext,
    base_url: str,
    selector_map: SelectorMap,
    credentials: Credentials,
    *,
    timeout_ms: float = 15_000,
) -> None:
    """Log in untraced and give `context` the session cookies."""
    log = logger.bind(portal=selector_map.flavour, user=credentials.username)
    login_page = selector_map.page("login")
    scratch = browser.new_context(base_url=base_url)
    try:
        page = scratch.new_page()
        page.set_default_timeout(timeout_ms)
        response = page.goto(urljoin(base_url, login_page.url or "/login"))
        if response is not None and response.status >= 500:
            raise PortalError(f"http_{response.status}", "the login page is unavailable")
        sel = login_page.selectors
        page.locator(sel["username"]).fill(credentials.username)
        if "next" in sel:  # a two-step login asks for the password after the user name
            page.locator(sel["next"]).click()
        page.locator(sel["password"]).fill(credentials.password.get_secret_value())
        page.locator(sel["submit"]).click()
        if "totp" in selector_map.pages:
            totp_sel = selector_map.page("totp").selectors
            done = page.locator(selector_map.page("home").selectors["logged_in"])
            code_box = page.locator(totp_sel["code"])
            done.or_(code_box).or_(page.locator(sel["error"])).first.wait_for()
            if code_box.is_visible():
                if credentials.totp_secret is None:
                    raise BusinessError("totp_required", "the portal asks for a TOTP code")
                code = pyotp.TOTP(credentials.totp_secret.get_secret_value()).now()
                code_box.fill(code)
                page.locator(totp_sel["submit"]).click()
        home = page.locator(selector_map.page("home").selectors["logged_in"])
        home.or_(page.locator(sel["error"])).first.wait_for()
        if not home.is_visible():
            raise BusinessError("login_refused", "the portal refused the login")
        context.add_cookies(cast("list[SetCookieParam]", scratch.cookies()))
        _hand_over_local_storage(scratch, context)
        log.info("logged in")
    except PlaywrightError as exc:
        raise PortalError("login_failed", _masked_first_line(exc, credentials)) from None
    finally:
        scratch.close()


def _hand_over_local_storage(scratch: BrowserContext, context: BrowserContext) -> None:
    """Single-page apps (Tryton's web client) keep part of their session in localStorage."""
    for origin in scratch.storage_state()["origins"]:
        items = {item["name"]: item["value"] for item in origin["localStorage"]}
        if items:
            script = (
                f"if (location.origin === {json.dumps(origin['origin'])}) "
                f"for (const [k, v] of Object.entries({json.dumps(items)})) "
                "localStorage.setItem(k, v);"
            )
            context.add_init_script(script)


def _masked_first_line(exc: BaseException, credentials: Credentials) -> str:
    line = first_line(exc)
    for secret in credentials.secrets():
        line = line.replace(secret, "***")
    return line
