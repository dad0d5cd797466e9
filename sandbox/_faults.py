"""Fault injection: a portal that is slow, answers 503 now and then, and saves slowly.

Every decision comes from one `random.Random` seeded from the config, so a test can
predict the rates. A 503 is decided before the handler runs: a committed write is never
followed by an error answer.
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


class FaultInjector:
    """ASGI middleware: latency on every request, a share of them answered 503."""

    def __init__(self, app: ASGIApp, faults: FaultConfig, stats: FaultStats | None = None) -> None:
        self.app = app
        self.faults = faults
        self.stats = stats or FaultStats()
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()

    @property
    def requests(self) -> int:
        return self.stats.requests

    @property
    def errors(self) -> int:
        return self.stats.errors

    def _draw(self, method: str, path: str) -> tuple[float, bool]:
        with self._lock:
            delay = 0.0
            if self.faults.latency_ms:
                delay = self._rng.uniform(*self.faults.latency_ms) / 1000
            fail = self._rng.random() < self.faults.error_rate
            self.stats.requests += 1
            self.stats.errors += fail
            self.stats.log.append((time.time(), method, path, fail))
            return delay, fail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        delay, fail = self._draw(scope["method"], scope["path"])
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
        await self.app(scope, receive, send)


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
