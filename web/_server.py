"""Serve the web app from a background thread (the demo and the tests)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import date
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from store import Store


class WebServer:
    """The people's pages served by uvicorn in a thread on 127.0.0.1 (port 0: a free one).

    >>> with WebServer(app) as base_url: ...
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host, self.port = host, port
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        host, port = sock.getsockname()[:2]
        # No access log: URLs are harmless, but keep the log for what matters.
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"web-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:  # uvicorn offers no event to wait on
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the web app did not start on {host}:{port}")
            time.sleep(0.01)
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


DEMO_PEOPLE = {"auditor": "auditor", "ops": "ops", "manager": "manager"}


def serve_demo(
    store: Store, *, engagements: Path | None, today: date | None, port: int = 8000
) -> tuple[WebServer, dict[str, str]]:
    """The demo's web pages: the well-known demo key, one person per role (name = role,
    password `demo-<role>`), started in a thread. Returns the server and the passwords."""
    from schemas.people import Role
    from web._app import create_app
    from web._config import WebSettings
    from web._security import hash_password

    people = {name: f"demo-{role}" for name, role in DEMO_PEOPLE.items()}
    for name, role in DEMO_PEOPLE.items():
        if store.user(name) is None:
            store.add_user(name, Role(role), hash_password(people[name]))
    app = create_app(store, WebSettings(demo=True), engagements=engagements, today=today)
    server = WebServer(app, port=port)
    server.start()
    return server, people
