"""A real Tryton ERP on localhost, the honest test of the bots: install, seed, serve.

`running_tryton(folder)` installs Tryton 8.0 in the user's cache (once per machine: see
`install.default_root`), copies a seeded database into `folder` (seeded once per world)
and serves it with the sao web client.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.tryton.install import TrytonInstall, install
from sandbox.tryton.rpc import TrytonRPC
from sandbox.tryton.server import DATABASE, TrytonData, TrytonServer, seeded_database
from sandbox.tryton.world import build

BOT_LOGIN = "quotebot"
BOT_PASSWORD = "Renew-Quote-2026"  # a throwaway local demo user, never a real credential

__all__ = [
    "DATABASE",
    "RunningTryton",
    "TrytonInstall",
    "TrytonRPC",
    "install",
    "prepare",
    "running_tryton",
]


@dataclass(frozen=True)
class RunningTryton:
    """A started Tryton: where it answers, its data folder, and its bot login."""

    base_url: str
    rpc_url: str
    data: TrytonData
    login: str = BOT_LOGIN
    password: str = BOT_PASSWORD

    def rpc(self) -> TrytonRPC:
        return TrytonRPC(self.rpc_url, self.login, self.password)


def prepare(*, today: date | None = None, opportunities: int = 5) -> Path:
    """Install Tryton and seed the world `running_tryton` serves (both kept in the cache),
    ahead of any test; the install's root."""
    tryton = install()
    spec = build(today or date.today(), opportunities)
    with tempfile.TemporaryDirectory() as scratch:
        seeded_database(tryton, spec, {BOT_LOGIN: BOT_PASSWORD}, Path(scratch))
    return tryton.root


@contextmanager
def running_tryton(
    folder: Path, *, today: date | None = None, opportunities: int = 5
) -> Iterator[RunningTryton]:
    """Tryton with a fresh copy of the seeded world in `folder`, stopped on exit."""
    tryton = install()
    spec = build(today or date.today(), opportunities)
    data = seeded_database(tryton, spec, {BOT_LOGIN: BOT_PASSWORD}, folder)
    with TrytonServer(tryton, data) as server:
        yield RunningTryton(server.base_url, server.rpc_url, data)
