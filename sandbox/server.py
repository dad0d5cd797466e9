"""Run a sandbox portal over HTTP on localhost: in a background thread (tests, demos) or as
a process of its own (`python -m sandbox.server serve ...`, same options as
`quotebot sandbox serve`), so that killing a bot never kills the portal it talks to.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.portal import Portal


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (no race between picking and binding)."""
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else +40 ms
    # per keep-alive request from Nagle and delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: FastAPI) -> uvicorn.Config:
    # No access log: URLs are harmless, but a portal log is no place for anything a user typed.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")


class SandboxServer:
    """A portal served by uvicorn in a background thread on 127.0.0.1.

    >>> with SandboxServer(config) as base_url: ...
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.app = create_app(config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def portal(self) -> Portal:
        """The portal this server writes through (tests may read from it)."""
        portal: Portal = self.app.state.portal
        return portal

    def start(self, timeout: float = 15.0) -> str:
        """Start serving; returns the base URL, e.g. `http://127.0.0.1:41234`."""
        sock = bind_socket(self.config.host, self.config.port)
        host, port = sock.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn_config(self.app))
        server = self._server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:  # uvicorn offers no event to wait on
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the sandbox portal did not start on {host}:{port}")
            time.sleep(0.01)
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = self._thread = None
        self.portal.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(config: SandboxConfig, announce: Callable[[str], None] = print) -> None:
    """Serve in this process until SIGINT/SIGTERM (uvicorn handles the signals)."""
    app = create_app(config)
    sock = bind_socket(config.host, config.port)
    host, port = sock.getsockname()[:2]
    announce(f"http://{host}:{port}")
    try:
        uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
    finally:
        sock.close()
        app.state.portal.close()


if __name__ == "__main__":
    from sandbox.cli import sandbox_group

    sandbox_group(prog_name="python -m sandbox.server")
