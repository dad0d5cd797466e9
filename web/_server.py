"""The people's pages served from a background thread (the demo and the tests)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import FastAPI

from common.serving import ThreadedServer
from schemas.people import Role
from store import Store
from web._app import create_app
from web._config import WebSettings
from web._security import hash_password


class WebServer(ThreadedServer):
    """The people's pages served by uvicorn in a thread on 127.0.0.1 (port 0: a free one).

    >>> with WebServer(app) as base_url: ...
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(app, host, port, name="web")


DEMO_PEOPLE = {"auditor": "auditor", "ops": "ops", "manager": "manager"}


def serve_demo(
    store: Store,
    *,
    engagements: Path | None,
    today: date | None,
    port: int = 8000,
    home: Path | None = None,
) -> tuple[WebServer, dict[str, str]]:
    """The demo's web pages: the well-known demo key, one person per role (name = role,
    password `demo-<role>`), started in a thread. Returns the server and the passwords."""
    people = {name: f"demo-{role}" for name, role in DEMO_PEOPLE.items()}
    for name, role in DEMO_PEOPLE.items():
        if store.user(name) is None:
            store.add_user(name, Role(role), hash_password(people[name]), all_engagements=True)
    app = create_app(store, WebSettings(demo=True), engagements=engagements, today=today, home=home)
    server = WebServer(app, port=port)
    server.start()
    return server, people
