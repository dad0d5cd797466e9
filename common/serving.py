"""An ASGI app served by uvicorn on localhost: in a background thread (the demo, tests,
benchmarks) or in the foreground, on a socket bound first so that port 0 picks a free port
with no race between picking and binding."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else +40 ms
    # per keep-alive request from Nagle and delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any) -> uvicorn.Config:
    # No access log: URLs are harmless, but a server log is no place for anything a user typed.
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")


def serve_forever(app: Any, sock: socket.socket) -> None:
    """Serve on `sock` in this thread until SIGINT or SIGTERM (uvicorn handles both)."""
    try:
        uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])
    finally:
        sock.close()


class ThreadedServer:
    """`app` served by uvicorn in a daemon thread on `host:port` (port 0: a free one).

    >>> with ThreadedServer(app) as base_url: ...
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "http"):
        self.app = app
        self.host, self.port, self.name = host, port, name
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> str:
        """Start serving; returns the base URL, e.g. `http://127.0.0.1:41234`."""
        sock = bind_socket(self.host, self.port)
        host, port = sock.getsockname()[:2]
        server = self._server = uvicorn.Server(uvicorn_config(self.app))
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"{self.name}-{port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:  # uvicorn offers no event to wait on
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"{self.name} did not start on {host}:{port}")
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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
