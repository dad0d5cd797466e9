"""Run a sandbox portal over HTTP on localhost: in a background thread (tests, demos) or as
a process of its own (`python -m sandbox.server serve ...`, same options as
`quotebot sandbox serve`), so that killing a bot never kills the portal it talks to.
"""

from __future__ import annotations

from collections.abc import Callable

from common.serving import ThreadedServer, bind_socket
from common.serving import serve_forever as _serve_forever
from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.portal import Portal


class SandboxServer(ThreadedServer):
    """A portal served by uvicorn in a background thread on 127.0.0.1.

    >>> with SandboxServer(config) as base_url: ...
    """

    def __init__(self, config: SandboxConfig) -> None:
        super().__init__(create_app(config), config.host, config.port, name="sandbox")
        self.config = config

    @property
    def portal(self) -> Portal:
        """The portal this server writes through (tests may read from it)."""
        portal: Portal = self.app.state.portal
        return portal

    def stop(self) -> None:
        super().stop()
        self.portal.close()


def serve_forever(config: SandboxConfig, announce: Callable[[str], None] = print) -> None:
    """Serve in this process until SIGINT/SIGTERM (uvicorn handles the signals)."""
    app = create_app(config)
    sock = bind_socket(config.host, config.port)
    host, port = sock.getsockname()[:2]
    announce(f"http://{host}:{port}")
    try:
        _serve_forever(app, sock)
    finally:
        app.state.portal.close()


if __name__ == "__main__":
    from sandbox.cli import sandbox_group

    sandbox_group(prog_name="python -m sandbox.server")
