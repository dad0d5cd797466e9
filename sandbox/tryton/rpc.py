"""A small JSON-RPC client for Tryton: how tests confirm what the bots entered, independently."""

from __future__ import annotations

import base64
import json
import urllib.request
from datetime import date
from decimal import Decimal
from typing import Any


class TrytonRPCError(RuntimeError):
    """Raised when Tryton answers a call with an error (its message and the method)."""


def _default(value: object) -> object:
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _hook(obj: dict[str, Any]) -> object:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


class TrytonRPC:
    """A logged-in JSON-RPC session on one database (`rpc_url` = http://host:port/DB/)."""

    def __init__(self, rpc_url: str, login: str, password: str) -> None:
        self.url = rpc_url.rstrip("/") + "/rpc/"
        self._auth: str | None = None
        self._context: dict[str, Any] = {}
        user_id, session = self._call("common.db.login", [login, {"password": password}, "en"])[:2]
        token = base64.b64encode(f"{login}:{user_id}:{session}".encode()).decode()
        self._auth = f"Session {token}"
        self._context = self._call("model.res.user.get_preferences", [True, {}])

    def _call(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"id": 1, "method": method, "params": params}, default=_default)
        request = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        if self._auth:
            request.add_header("Authorization", self._auth)
        with urllib.request.urlopen(request, timeout=60) as answer:
            reply = json.loads(answer.read(), object_hook=_hook)
        if reply.get("error"):
            raise TrytonRPCError(f"{method}: {reply['error']}")
        return reply["result"]

    def call(self, model: str, method: str, *args: Any) -> Any:
        """`model.<model>.<method>(*args, context)`."""
        return self._call(f"model.{model}.{method}", [*args, self._context])

    def search_read(
        self, model: str, domain: list[Any], fields: list[str], order: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.call(model, "search_read", domain, 0, None, order, fields)
        return rows
