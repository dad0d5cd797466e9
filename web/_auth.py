"""Signing in and out; repeated failures make the next attempt wait."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from loguru import logger

from schemas.people import Role
from web._deps import SignedIn, render, session_of, store_of
from web._security import (
    Session,
    UnknownNameThrottle,
    hash_password,
    needs_rehash,
    verify_password,
    wait_needed,
)

router = APIRouter()
log = logger.bind(part="web")

_HOME = {Role.AUDITOR: "/review", Role.OPS: "/runs", Role.MANAGER: "/dashboard"}
# A failure always costs this much on top of the hash, so guessing is slow even before
# the per-name waits begin.
_FAILURE_PAUSE_S = 0.3


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no //host, no scheme): an open redirect helps phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/")
def home(user: SignedIn) -> Response:
    return RedirectResponse(_HOME[user.role], status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> Response:
    store = store_of(request)
    throttle: UnknownNameThrottle = request.app.state.throttle
    now = store.now()
    user = store.user(username)
    wait = (
        wait_needed(user.failed_logins, user.last_failed_at, now)
        if user
        else throttle.wait(username, now)
    )
    if wait > 0:
        message = f"Too many failed sign-ins. Try again in {math.ceil(wait)} s."
        return render(request, "login.html", 429, error=message, next=_safe_next(next))
    stored = store.password_hash(username) if user else None
    if not verify_password(stored, password):
        if user:
            store.login_failed(username)
        else:
            throttle.failed(username, now)
        log.info("failed sign-in")  # no name: it may be a password typed in the wrong box
        await asyncio.sleep(_FAILURE_PAUSE_S)
        message = "Wrong name or password."
        return render(request, "login.html", 401, error=message, next=_safe_next(next))
    assert user is not None and stored is not None
    if needs_rehash(stored):
        store.set_password_hash(username, hash_password(password))
    store.login_succeeded(username)
    # A fresh session id on sign-in: a planted pre-login cookie is worth nothing after it.
    request.state.session = Session(sid=Session.anonymous().sid, user=user.name)
    request.state.session_changed = True
    return RedirectResponse(_safe_next(next) if next != "/" else _HOME[user.role], 303)


@router.post("/logout")
def logout(request: Request) -> Response:
    if session_of(request).user:
        request.state.session = Session.anonymous()
        request.state.session_changed = True
    return RedirectResponse("/login", status_code=303)
