"""The portal's login pages: password with a CSRF token, then an optional TOTP code.

Templates: `templates/<flavour>/login.html` (or `totp.html`) when the flavour has its
own, else the shared `templates/login.html`. Context: `csrf_token`, `next`, `error`
(str or None), `expired` (bool), `flavour`. Form fields: `username`, `password`, `code`,
`csrf_token`, `next`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import pyotp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandbox._sessions import ANONYMOUS, AUTHENTICATED, COOKIE, TOTP_PENDING, Session
from sandbox.config import SandboxConfig

TEMPLATES = Path(__file__).parent / "templates"
MAX_TOTP_FAILURES = 5
router = APIRouter()


def safe_next(raw: str | None) -> str:
    """Only same-site paths: an open redirect would be a real portal's bug, not ours."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def login_env(flavour: str) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(TEMPLATES / flavour), jinja2.FileSystemLoader(TEMPLATES)]
    )
    return jinja2.Environment(loader=loader, autoescape=True)


def _render(
    request: Request, name: str, session: Session, status: int = 200, **ctx: Any
) -> Response:
    config: SandboxConfig = request.app.state.config
    env: jinja2.Environment = request.app.state.login_env
    html = env.get_template(name).render(
        csrf_token=session.csrf_token, flavour=config.flavour, **{"error": None, **ctx}
    )
    response = HTMLResponse(html, status_code=status)
    _set_cookie(response, session)
    return response


def _set_cookie(response: Response, session: Session) -> None:
    response.set_cookie(COOKIE, session.sid, httponly=True, samesite="lax", path="/")


def _current(request: Request, stage: str) -> Session | None:
    session: Session | None = request.state.session
    return session if session is not None and session.stage == stage else None


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _csrf_ok(session: Session | None, form: dict[str, str]) -> bool:
    return session is not None and form.get("csrf_token") == session.csrf_token


@router.get("/login")
def login_page(request: Request, next: str = "/", expired: int = 0) -> Response:  # noqa: A002
    if _current(request, AUTHENTICATED):
        return RedirectResponse(safe_next(next), status_code=303)
    session = _current(request, ANONYMOUS) or request.app.state.sessions.create(ANONYMOUS)
    return _render(request, "login.html", session, next=safe_next(next), expired=bool(expired))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    session = _current(request, ANONYMOUS)
    if not _csrf_ok(session, form):
        return Response("403 Forbidden: missing or invalid CSRF token", status_code=403)
    assert session is not None
    target = safe_next(form.get("next"))
    portal = request.app.state.portal
    username = form.get("username", "").strip()
    if not portal.authenticate(username, form.get("password", "")):
        return _render(
            request,
            "login.html",
            session,
            status=401,
            next=target,
            expired=False,
            error="Invalid username or password.",
        )
    sessions = request.app.state.sessions
    sessions.drop(session.sid)  # a new id after login: no session fixation
    if request.app.state.config.totp:
        pending = sessions.create(TOTP_PENDING, username)
        response = RedirectResponse(f"/login/totp?next={quote(target)}", status_code=303)
        _set_cookie(response, pending)
        return response
    return _signed_in(request, username, target, sessions.create(ANONYMOUS))


@router.get("/login/totp")
def totp_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    session = _current(request, TOTP_PENDING)
    if session is None:
        return RedirectResponse(f"/login?next={quote(safe_next(next))}", status_code=303)
    return _render(request, "totp.html", session, next=safe_next(next), expired=False)


@router.post("/login/totp")
async def totp(request: Request) -> Response:
    form = await _form(request)
    session = _current(request, TOTP_PENDING)
    if not _csrf_ok(session, form):
        return Response("403 Forbidden: missing or invalid CSRF token", status_code=403)
    assert session is not None and session.username is not None
    target = safe_next(form.get("next"))
    sessions = request.app.state.sessions
    secret = request.app.state.portal.totp_secret(session.username)
    code = form.get("code", "").strip()
    if not secret or not pyotp.TOTP(secret).verify(code, valid_window=1):
        session.totp_failures += 1
        if session.totp_failures >= MAX_TOTP_FAILURES:
            sessions.drop(session.sid)
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return _render(
            request,
            "totp.html",
            session,
            status=401,
            next=target,
            expired=False,
            error="That code is not valid. Enter the 6-digit code from your authenticator.",
        )
    sessions.drop(session.sid)
    return _signed_in(request, session.username, target, sessions.create(ANONYMOUS))


def _signed_in(request: Request, username: str, target: str, anonymous: Session) -> Response:
    """Into the portal, unless the account already has as many sessions as it may."""
    signed_in = request.app.state.sessions.sign_in(username)
    if signed_in is None:
        cap = request.app.state.sessions.max_sessions
        return _render(
            request,
            "login.html",
            anonymous,
            status=429,
            next=target,
            expired=False,
            error=f"This account already has {cap} sessions open. Sign out elsewhere first.",
        )
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, signed_in)
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(request: Request) -> Response:
    session: Session | None = request.state.session
    if session is not None:
        request.app.state.sessions.drop(session.sid)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
