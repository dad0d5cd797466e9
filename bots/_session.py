"""Logged-in browser contexts for one portal: login, TOTP, transparent re-login.

Logging in happens in a throwaway context that is never traced or screenshotted, and
only its cookies are handed to the working context: the password and the TOTP code are
never typed where a trace or a screenshot could record them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urljoin, urlparse

import pyotp
from loguru import logger
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pydantic import SecretStr

import common.secrets_file
from bots._errors import (
    EngagementRefused,
    PortalError,
    SessionLeftOpen,
    SessionsFull,
    portal_answer,
)
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
            raise EngagementRefused(
                "missing_credentials",
                f"credentials missing: not set in the {where}: {', '.join(missing)}",
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
    """The secrets file's values; one that cannot be read refuses the engagement, naming the
    file and line, never the line's text."""
    try:
        return common.secrets_file.read_secrets_file(path)
    except common.secrets_file.SecretsFileError as exc:
        raise EngagementRefused("missing_credentials", f"credentials missing: {exc}") from None


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
    """Log in untraced and give `context` the session cookies.

    A portal answering 5xx on the way (the login page, the form's post, the second factor)
    is busy, not refusing: `PortalBusy`, which the caller's retry policy tries again.
    """
    log = logger.bind(portal=selector_map.flavour, user=credentials.username)
    login_page = selector_map.page("login")
    scratch = browser.new_context(base_url=base_url)
    busy: list[int] = []
    full: list[int] = []
    submitted = False
    try:
        page = scratch.new_page()
        page.set_default_timeout(timeout_ms)
        page.on("response", lambda r: _note_busy(r, busy, full))
        response = page.goto(urljoin(base_url, login_page.url or "/login"))
        if response is not None and response.status >= 500:
            raise portal_answer(f"http_{response.status}", "the login page is unavailable")
        sel = login_page.selectors
        page.locator(sel["username"]).fill(credentials.username)
        if "next" in sel:  # a two-step login asks for the password after the user name
            page.locator(sel["next"]).click()
        page.locator(sel["password"]).fill(credentials.password.get_secret_value())
        submitted = True
        page.locator(sel["submit"]).click()
        refused = page.locator(sel["error"])
        if "totp" in selector_map.pages:
            _second_factor(page, selector_map, credentials, busy, timeout_ms)
            if "error" in selector_map.page("totp").selectors:
                refused = refused.or_(page.locator(selector_map.page("totp").selectors["error"]))
        home = page.locator(selector_map.page("home").selectors["logged_in"])
        _wait_unless_busy(home.or_(refused).first, busy, timeout_ms)
        if not home.is_visible():
            if full:
                raise portal_answer(
                    "too_many_sessions",
                    f"the portal has as many sessions open for {credentials.username} as its "
                    "licence allows: waiting for one to close",
                )
            raise EngagementRefused(
                "login_refused",
                f"login refused by the portal for user {credentials.username} "
                "(password or second factor no longer accepted)",
            )
        context.add_cookies(cast("list[SetCookieParam]", scratch.cookies()))
        _hand_over_local_storage(scratch, context)
        log.info("logged in")
    except (EngagementRefused, SessionsFull):
        raise  # the portal opened no session
    except (PlaywrightError, PortalError) as exc:
        if submitted and not logout(page, base_url, selector_map):
            raise SessionLeftOpen(
                "session_left_open",
                "the log-in failed after the portal may have opened a session, and it "
                "could not be signed out",
            ) from None
        if isinstance(exc, PortalError):
            raise
        if busy:
            raise portal_answer(
                f"http_{busy[-1]}", "the portal was busy during the log-in"
            ) from None
        raise PortalError("login_failed", _masked_first_line(exc, credentials)) from None
    finally:
        scratch.close()


_PAGE_PARTS = ("document", "script", "xhr", "fetch")


def _note_busy(response: Response, busy: list[int], full: list[int]) -> None:
    """A 5xx on the page, its script or a call it makes (not on a stylesheet or an image);
    a 429 (too many: the licence's sessions are all open) on the page."""
    if response.status >= 500 and response.request.resource_type in _PAGE_PARTS:
        busy.append(response.status)
    if response.status == 429 and response.request.resource_type == "document":
        full.append(response.status)


def _wait_unless_busy(target: Locator, busy: list[int], timeout_ms: float) -> None:
    """Wait for `target`, giving up as soon as the portal answered 5xx: a busy portal's
    error page never shows it, and waiting out the whole timeout would only cost time."""
    # A loop: Playwright's waits cannot watch the portal's 5xx answers, which end it early.
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        try:
            target.wait_for(timeout=500)
            return
        except PlaywrightTimeout:
            if busy:
                raise portal_answer(
                    f"http_{busy[-1]}", "the portal was busy during the log-in"
                ) from None
            if time.monotonic() > deadline:
                raise


def _second_factor(
    page: Page,
    selector_map: SelectorMap,
    credentials: Credentials,
    busy: list[int],
    timeout_ms: float,
) -> None:
    """Type the TOTP code when the portal asks for one after the password."""
    sel = selector_map.page("login").selectors
    totp_sel = selector_map.page("totp").selectors
    done = page.locator(selector_map.page("home").selectors["logged_in"])
    code_box = page.locator(totp_sel["code"])
    _wait_unless_busy(done.or_(code_box).or_(page.locator(sel["error"])).first, busy, timeout_ms)
    if code_box.is_visible():
        if credentials.totp_secret is None:
            raise EngagementRefused(
                "totp_required", "login refused: the portal asks for a TOTP code, none is set"
            )
        code = pyotp.TOTP(credentials.totp_secret.get_secret_value()).now()
        code_box.fill(code)
        page.locator(totp_sel["submit"]).click()


def logout(page: Page, base_url: str, selector_map: SelectorMap, *, tries: int = 3) -> bool:
    """Sign out, so that the portal frees the account's seat now, not at its idle expiry;
    True once the portal is seen to have ended the session (it shows its login page).

    Tried `tries` times (a busy portal); False when it could not be seen to end, or the map
    has no `logout` page: the session then lasts until the portal's own expiry.
    """
    if "logout" not in selector_map.pages:
        return False
    spec = selector_map.page("logout")
    log = logger.bind(portal=selector_map.flavour)
    for _ in range(tries):
        try:
            page.goto(urljoin(base_url, spec.url or "/"))
            if not is_login_url(page.url, selector_map):
                page.locator(spec.selectors[spec.anchor]).click(timeout=5_000)
                page.wait_for_url(lambda url: is_login_url(url, selector_map), timeout=5_000)
            return True
        except PlaywrightError as exc:
            log.info("sign-out not seen to end the session: {}", first_line(exc))
    return False


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
