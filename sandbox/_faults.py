"""Fault injection: a portal that is slow, answers 503 now and then, and saves slowly.

Every decision comes from one `random.Random` seeded from the config, so a test can
predict the rates. A 503 is decided before the handler runs: a committed write is never
answered with an error (`busy_after_write` fails the reads that follow it, not the write).
An `Outage` is a switch a test flips while the portal runs: connections dropped mid-answer.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.config import FaultConfig
from sandbox.portal import Portal, Quote


class FaultStats:
    """What the fault injector did so far: requests seen, 503s answered, and the portal's
    request log (epoch seconds, method, path, whether it was answered 503)."""

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.log: list[tuple[float, str, str, bool]] = []


class Outage:
    """While on, requests under a path prefix lose their connection before any handler runs,
    as when the portal's process dies or a load balancer resets: `outage.begin(5, "/api/")`;
    with `hang`, they first wait for the outage to end (a process that stopped answering,
    then died)."""

    def __init__(self) -> None:
        self.until = 0.0
        self.prefix = "/"
        self.hang = False
        self.dropped = 0
        """Connections dropped so far."""

    def begin(self, seconds: float, prefix: str = "/", *, hang: bool = False) -> None:
        self.prefix = prefix
        self.hang = hang
        self.until = time.monotonic() + seconds

    def drops(self, path: str) -> bool:
        return time.monotonic() < self.until and path.startswith(self.prefix)


class ConnectionDropped(Exception):
    """Raised by the sandbox to drop a connection mid-answer (the `Outage` switch is on)."""


class OutageSwitch:
    """ASGI middleware: the `Outage`'s requests get an answer cut off after its headers."""

    def __init__(self, app: ASGIApp, outage: Outage) -> None:
        self.app = app
        self.outage = outage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.outage.drops(scope["path"]):
            if self.outage.hang:
                await asyncio.sleep(max(0.0, self.outage.until - time.monotonic()))
            self.outage.dropped += 1
            headers = [(b"content-length", b"4096"), (b"content-type", b"text/html")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            raise ConnectionDropped("outage switch on: the connection is dropped")
        await self.app(scope, receive, send)


_NOT_WRITES = ("/login", "/logout")


class FaultInjector:
    """ASGI middleware: latency on every request, a share of them answered 503, and the
    reads after a committed write answered 503 (`busy_after_write`)."""

    def __init__(self, app: ASGIApp, faults: FaultConfig, stats: FaultStats | None = None) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats or FaultStats()
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._busy_reads = 0
        self._busy_list = faults.busy_list

    @property
    def requests(self) -> int:
        return self.stats.requests

    @property
    def errors(self) -> int:
        return self.stats.errors

    def _draw(self, method: str, path: str, query: bytes = b"") -> tuple[float, bool]:
        with self._lock:
            delay = 0.0
            if self.faults.latency_ms:
                delay = self._rng.uniform(*self.faults.latency_ms) / 1000
            fail = self._rng.random() < self.faults.error_rate
            if method == "GET" and self._busy_reads and not path.startswith("/static"):
                self._busy_reads -= 1
                fail = True
            if self._busy_list and path == "/opportunities" and b"end_from" in query:
                self._busy_list -= 1
                fail = True
            self.stats.requests += 1
            self.stats.errors += fail
            self.stats.log.append((time.time(), method, path, fail))
            return delay, fail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        delay, fail = self._draw(scope["method"], scope["path"], scope.get("query_string", b""))
        if delay:
            await asyncio.sleep(delay)
        if fail:
            response: Response
            if Request(scope).url.path.startswith("/api/"):
                response = JSONResponse(
                    {"error": "service_unavailable", "message": "Please try again later."},
                    status_code=503,
                    headers={"Retry-After": "1"},
                )
            else:
                response = PlainTextResponse(
                    "503 Service Unavailable: please try again later.",
                    status_code=503,
                    headers={"Retry-After": "1"},
                )
            await response(scope, receive, send)
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        logging_in = scope["path"].startswith("/login")
        if logging_in:  # drawn only when asked for: the other faults' draws stay as seeded
            rate = self.faults.busy_after_login
            busy_reads = int(bool(rate) and self._rng_draw() < rate)
        else:
            busy_reads = (
                0 if scope["path"].startswith(_NOT_WRITES) else self.faults.busy_after_write
            )

        async def noting_the_write(message: Any) -> None:
            if message["type"] == "http.response.start" and _went_through(message, logging_in):
                with self._lock:
                    self._busy_reads = busy_reads
            await send(message)

        await self.app(scope, receive, noting_the_write if busy_reads else send)

    def _rng_draw(self) -> float:
        with self._lock:
            return self._rng.random()


def _went_through(start: Any, logging_in: bool) -> bool:
    """A write answered without an error; a log-in answered by a redirect into the portal."""
    if not logging_in:
        return bool(start["status"] < 400)
    headers = dict(start.get("headers", []))
    return bool(start["status"] == 303 and not headers.get(b"location", b"").startswith(b"/login"))


class SlowPortal(Portal):
    """A portal whose save, submit and book wait `slow_save_ms` before writing."""

    def __init__(self, db_path: Path, *, today: date | None = None, slow_save_ms: int) -> None:
        super().__init__(db_path, today=today)
        self.slow_save_s = slow_save_ms / 1000

    def save_quote(self, opportunity_id: str, **kwargs: Any) -> Quote:
        time.sleep(self.slow_save_s)
        return super().save_quote(opportunity_id, **kwargs)

    def submit_quote(self, quote_number: str) -> Quote:
        time.sleep(self.slow_save_s)
        return super().submit_quote(quote_number)

    def book(self, quote_number: str, **kwargs: Any) -> str:
        time.sleep(self.slow_save_s)
        return super().book(quote_number, **kwargs)


def make_portal(db_path: Path, today: date, faults: FaultConfig) -> Portal:
    if faults.slow_save_ms:
        return SlowPortal(db_path, today=today, slow_save_ms=faults.slow_save_ms)
    return Portal(db_path, today=today)
