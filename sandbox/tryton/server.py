"""A real Tryton server on 127.0.0.1 serving the sao web client, on a seeded SQLite database.

Creating and seeding a database takes a while, so a seeded database is kept as a
template keyed by everything that went into it; each server gets its own copy. Processes
that need a template at once (parallel tests, a demo beside them) take turns under a file
lock, and a template only appears once it is complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox.tryton.install import TrytonInstall
from sandbox.tryton.world import WorldFiles, write_world

DATABASE = "quotebot"
SEED_SCRIPT = Path(__file__).with_name("_seed_script.py")
ADMIN_PASSWORD = "admin-Quotebot-7"  # a throwaway local demo database


class TrytonServerError(RuntimeError):
    """Raised when trytond fails to set a database up or to start; carries its log's tail."""


@dataclass(frozen=True)
class TrytonData:
    """A seeded database folder: the SQLite file and the world files beside it."""

    folder: Path
    world: WorldFiles

    @property
    def database_file(self) -> Path:
        return self.folder / f"{DATABASE}.sqlite"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_config(folder: Path, install: TrytonInstall, port: int = 0) -> Path:
    conf = folder / "trytond.conf"
    conf.write_text(
        "[database]\nuri = sqlite://\n"
        f"path = {folder}\n"
        f"[web]\nlisten = 127.0.0.1:{port or 8000}\nroot = {install.sao}\n"
        "[session]\nmax_age = 86400\n"
        "[password]\nlength = 8\n",
        encoding="utf-8",
    )
    return conf


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a", encoding="utf-8") as out:
        done = subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8").strip().splitlines()[-20:]
        raise TrytonServerError(f"{Path(args[0]).name} failed:\n" + "\n".join(tail))


def seeded_database(
    install: TrytonInstall, spec: dict[str, Any], users: dict[str, str], target: Path
) -> TrytonData:
    """A copy in `target` of the seeded database for (spec, users), seeding it the first time."""
    key = hashlib.sha256(
        json.dumps([spec, users, SEED_SCRIPT.read_text(encoding="utf-8")]).encode()
    ).hexdigest()[:16]
    templates = install.root / "templates"
    template = templates / key
    templates.mkdir(parents=True, exist_ok=True)
    with (templates / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "done").exists():
            shutil.rmtree(template, ignore_errors=True)
            _seed(install, spec, users, template)
            (template / "done").touch()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template / f"{DATABASE}.sqlite", target / f"{DATABASE}.sqlite")
    return TrytonData(target, write_world(target, spec))


def _seed(
    install: TrytonInstall, spec: dict[str, Any], users: dict[str, str], folder: Path
) -> None:
    folder.mkdir(parents=True)
    world = write_world(folder, spec)
    conf = _write_config(folder, install)
    password_file = folder / "admin-password"
    password_file.write_text(ADMIN_PASSWORD, encoding="utf-8")
    users_file = folder / "users.json"
    users_file.write_text(json.dumps(users), encoding="utf-8")
    env = {**os.environ, "TRYTONPASSFILE": str(password_file)}
    log = folder / "seed.log"
    # the modules activated on an empty database: the slow part, shared by every spec
    base = install.root / "templates" / f"modules-{install.key}.sqlite"
    if not base.exists():
        (folder / f"{DATABASE}.sqlite").touch()  # trytond-admin does not create the SQLite file
        _run(
            [
                str(install.trytond_admin),
                "-c",
                str(conf),
                "-d",
                DATABASE,
                "--all",
                "-u",
                "sale_opportunity",
                "--activate-dependencies",
                "--email",
                "admin@example.com",
            ],
            env,
            log,
        )
        partial = base.with_suffix(".partial")
        shutil.copy2(folder / f"{DATABASE}.sqlite", partial)
        partial.replace(base)
    else:
        shutil.copy2(base, folder / f"{DATABASE}.sqlite")
    _run(
        [
            str(install.python),
            str(SEED_SCRIPT),
            str(conf),
            DATABASE,
            str(world.spec),
            str(users_file),
        ],
        env,
        log,
    )
    users_file.unlink()
    password_file.unlink()


class TrytonServer:
    """`trytond` in a child process on a free 127.0.0.1 port; use as a context manager."""

    def __init__(self, install: TrytonInstall, data: TrytonData) -> None:
        self.install = install
        self.data = data
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def rpc_url(self) -> str:
        return f"{self.base_url}{DATABASE}/"

    def start(self, timeout_s: float = 60.0) -> str:
        self.port = _free_port()
        conf = _write_config(self.data.folder, self.install, self.port)
        log = (self.data.folder / "trytond.log").open("ab")
        # -d: without it the first login of 8.0.12 fails with a KeyError on res.user
        self._process = subprocess.Popen(
            [str(self.install.trytond), "-c", str(conf), "-d", DATABASE],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = (self.data.folder / "trytond.log").read_text(errors="replace")[-2000:]
                raise TrytonServerError(f"trytond exited at start:\n{tail}")
            try:
                with urllib.request.urlopen(self.base_url, timeout=2) as answer:
                    if answer.status == 200:
                        return self.base_url
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TrytonServerError(f"trytond did not answer on {self.base_url} in {timeout_s}s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> TrytonServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
