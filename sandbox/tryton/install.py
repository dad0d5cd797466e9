"""Install a real Tryton 8.0 (server, sale modules, the sao web client) once per machine.

trytond pins its own libraries, so it lives in its own virtual environment, never in
quotebot's. Everything is downloaded from PyPI and npm once, into the user's cache
(`$XDG_CACHE_HOME/quotebot/tryton`, or `QUOTEBOT_TRYTON_ROOT`), where every checkout of
quotebot finds it; a stamp file per specification makes the second call return at once.
Processes that need it at the same moment (parallel tests, a demo beside them) take turns
under a file lock: the first installs, the others wait and reuse it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

SERIES = "8.0"
PIP_SPECS = (
    f"trytond~={SERIES}.0",
    f"trytond-sale~={SERIES}.0",
    f"trytond-sale-opportunity~={SERIES}.0",
    f"proteus~={SERIES}.0",
)
SAO_SPEC = f"tryton-sao@~{SERIES}.0"


def default_root() -> Path:
    """`QUOTEBOT_TRYTON_ROOT`, else the user's cache folder."""
    if os.environ.get("QUOTEBOT_TRYTON_ROOT"):
        return Path(os.environ["QUOTEBOT_TRYTON_ROOT"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "quotebot" / "tryton"


class InstallError(RuntimeError):
    """Raised when pip or npm fails while setting Tryton up; says which command and why."""


@dataclass(frozen=True)
class TrytonInstall:
    """Where an installed Tryton lives."""

    root: Path
    venv: Path
    sao: Path
    key: str
    """Names what was installed: caches built on this install are keyed by it."""

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def trytond(self) -> Path:
        return self.venv / "bin" / "trytond"

    @property
    def trytond_admin(self) -> Path:
        return self.venv / "bin" / "trytond-admin"


def _run(args: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise InstallError(f"{' '.join(args[:4])} … failed:\n" + "\n".join(tail))
    return done.stdout


def install(root: Path | None = None) -> TrytonInstall:
    """Tryton under `root` (default: `default_root()`): installed on first call, reused
    afterwards."""
    root = root or default_root()
    key = hashlib.sha256(json.dumps([PIP_SPECS, SAO_SPEC, sys.version_info[:2]]).encode())
    stamp = root / f".installed-{key.hexdigest()[:12]}"
    result = TrytonInstall(root, root / "venv", root / "sao", key.hexdigest()[:12])
    if stamp.exists():
        return result
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if stamp.exists():
            return result  # another process installed it while this one waited
        for old in root.glob(".installed-*"):
            old.unlink()
        _install_server(result)
        _install_sao(result)
        stamp.write_text(json.dumps({"pip": PIP_SPECS, "npm": SAO_SPEC}) + "\n", encoding="utf-8")
    return result


def _install_server(target: TrytonInstall) -> None:
    if not target.python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(target.venv)])
    _run(
        [
            str(target.python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *PIP_SPECS,
        ]
    )


def _install_sao(target: TrytonInstall) -> None:
    """sao ships `dist/` but loads jQuery, Bootstrap … from its own node_modules."""
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm is not installed (apt-get install npm)")
    work = target.root / "sao-download"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    tarball = _run([npm, "pack", SAO_SPEC, "--silent"], cwd=work).strip().splitlines()[-1]
    with tarfile.open(work / tarball) as archive:
        archive.extractall(work, filter="data")
    # its dev dependencies (grunt plugins) have conflicting peers: only runtime ones are needed
    _run(
        [npm, "install", "--omit=dev", "--legacy-peer-deps", "--no-audit", "--no-fund", "--silent"],
        cwd=work / "package",
    )
    shutil.rmtree(target.sao, ignore_errors=True)
    (work / "package").rename(target.sao)
    shutil.rmtree(work)


if __name__ == "__main__":
    print(install())  # noqa: T201
