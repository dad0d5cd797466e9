"""Signing in and out: the blocking work off the event loop, guessing slowed down."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from loguru import logger

from schemas.people import Role, User
from store import Store
from web import _throttle
from web._deps import SignedIn, render, session_of, sessions_of, store_of
from web._review import kept_decision
from web._security import (
    DEVICE_COOKIE,
    DEVICE_DAYS,
    Device,
    Session,
    hash_password,
    needs_rehash,
    verify_password,
)
from web._throttle import SignInThrottle

router = APIRouter()
log = logger.bind(part="web")

T = TypeVar("T")
HOME = {Role.AUDITOR: "/review", Role.OPS: "/runs", Role.MANAGER: "/dashboard"}
# A failure always costs this much on top of the hash, so guessing is slow even before
# the waits begin; it is awaited, so it holds no thread.
_FAILURE_PAUSE_S = 0.3
# Argon2 takes a core and 64 MiB per hash: at most two at once, so a flood of sign-ins
# queues here while signed-in pages keep their threads and the event loop stays free.
_HASHING = anyio.CapacityLimiter(2)


def safe_next(target: str | None) -> str:
    """Only paths on this site (no //host, no scheme): an open redirect helps phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _off_loop(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work, limiter=_HASHING)


def _check(store: Store, name: str, password: str) -> User | None:
    """The person if the password is theirs (argon2 and the database: call off the loop)."""
    user = store.user(name)
    stored = store.password_hash(name) if user else None
    if not verify_password(stored, password):
        if user:
            store.login_failed(name)
        return None
    if stored and needs_rehash(stored):
        store.set_password_hash(name, hash_password(password))
    return user


@router.get("/")
def home(user: SignedIn) -> Response:
    return RedirectResponse(HOME[user.role], status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    return render(request, "login.html", next=safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",  # noqa: A002
    pending_item: Annotated[str, Form(max_length=20)] = "",
    pending_action: Annotated[str, Form(max_length=50)] = "",
    pending_note: Annotated[str, Form(max_length=20_000)] = "",
    pending_reason: Annotated[str, Form(max_length=50)] = "",
    pending_version: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    pending = (
        {
            "item": pending_item,
            "action": pending_action,
            "note": pending_note,
            "reason": pending_reason,
            "version": pending_version,
        }
        if pending_item.isdecimal()
        else None
    )
    store = store_of(request)
    throttle: SignInThrottle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    device = sessions_of(request).device(request.cookies.get(DEVICE_COOKIE))
    if device is not None and username in device.names:
        keys: list[_throttle.Key] = [(_throttle.DEVICE, device.id)]
    else:
        keys = [(_throttle.ADDRESS, address), (_throttle.NAME, username)]
    now = store.now()
    wait = await anyio.to_thread.run_sync(lambda: throttle.wait(keys, now))
    if wait > 0:
        await _refused(store, username, address, "throttled")
        message = f"Too many failed sign-ins. Try again in {math.ceil(wait)} s."
        return render(
            request, "login.html", 429, error=message, next=safe_next(next), pending=pending
        )
    user = await _off_loop(lambda: _check(store, username, password))
    if user is None:
        await anyio.to_thread.run_sync(lambda: throttle.failed(keys, now))
        await _refused(store, username, address, "wrong name or password")
        await asyncio.sleep(_FAILURE_PAUSE_S)
        message = "Wrong name or password."
        return render(
            request, "login.html", 401, error=message, next=safe_next(next), pending=pending
        )
    await anyio.to_thread.run_sync(lambda: throttle.succeeded(keys))
    if user.disabled:
        await _refused(store, username, address, "disabled")
        message = "This account is disabled: ask whoever manages the accounts."
        return render(request, "login.html", 403, error=message, next=safe_next(next))
    response = await _signed_in(request, user, device, address, next)
    if pending is not None:
        # The decision kept through the sign-in, shown to save; the cookies come along.
        kept = await _off_loop(lambda: kept_decision(request, user, pending))
        for header, value in response.headers.items():
            if header == "set-cookie":
                kept.headers.append(header, value)
        return kept
    return response


async def _refused(store: Store, name: str, address: str, why: str) -> None:
    log.warning("failed sign-in as {!r} from {}: {}", name, address, why)
    await _off_loop(lambda: store.sign_in_refused(name, address, why))


async def _signed_in(
    request: Request, user: User, device: Device | None, address: str, target: str
) -> Response:
    store = store_of(request)
    sessions = sessions_of(request)
    # A fresh session id on sign-in: a planted pre-login cookie is worth nothing after it.
    session = Session(sid=Session.anonymous().sid, user=user.name)
    expires = store.now() + timedelta(seconds=sessions.max_age_s)
    await _off_loop(lambda: store.start_session(user.name, session.sid, expires, address=address))
    request.state.session = session
    request.state.session_changed = True
    goal = safe_next(target) if target != "/" else HOME[user.role]
    response = RedirectResponse(goal, 303)
    response.set_cookie(
        DEVICE_COOKIE,
        sessions.dump_device((device or Device.new()).with_name(user.name)),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=sessions.secure,
        path="/login",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    session = session_of(request)
    if session.user:
        store_of(request).end_session(session.sid)
        request.state.session = Session.anonymous()
        request.state.session_changed = True
    return RedirectResponse("/login", status_code=303)
