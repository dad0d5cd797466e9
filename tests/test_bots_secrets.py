"""Credentials never leave: not in logs, traces, screenshots or quotebot's database."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bot_helpers import engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal

from schemas.work import ItemState
from store import open_store


def _everything_written(home: Path, log: str) -> list[tuple[str, bytes]]:
    """Every byte quotebot left behind: log output, files, and each member of each trace."""
    found = [("stderr", log.encode())]
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        found.append((str(path), path.read_bytes()))
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                found += [(f"{path}!{m}", archive.read(m)) for m in archive.namelist()]
    return found


@pytest.mark.parametrize("flavour", ["acme", "globex"])
def test_no_password_or_totp_secret_in_logs_traces_or_screenshots(
    flavour: str, tmp_path: Path
) -> None:
    with running_portal(tmp_path / "portal", flavour, opportunities=6, totp=True) as portal:
        engagement = engagement_for(portal, workers=1)
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        home = tmp_path / "home"
        env = {**os.environ, **portal_env(engagement), "QUOTEBOT_HOME": str(home)}
        quotebot = [sys.executable, "-m", "quotebot"]
        run = [
            *quotebot,
            "-vv",
            "run",
            engagement.name,
            "--kind",
            "quote",
            "--engagements",
            str(config),
            "--today",
            portal.config.today.isoformat(),
        ]
        result = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
        log = result.stdout + result.stderr
        assert result.returncode == 0, result.stderr[-3000:]
        assert "logged in" in result.stderr  # the TOTP login really happened
        # A first attempt keeps the page (screenshot, HTML); an item tried again is traced:
        # operations send a failed item back and the next run works it, traced.
        with open_store(f"sqlite:///{home / 'quotebot.sqlite'}") as store:
            failed = store.items(engagement.name, state=ItemState.FAILED)[0]
        again = [
            [*quotebot, "items", "retry", str(failed.id), "--note", "price list corrected"],
            run,
        ]
        for command in again:
            more = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
            assert more.returncode == 0, more.stderr[-3000:]
            log += more.stdout + more.stderr

    written = _everything_written(home, log)
    names = [name for name, _ in written]
    assert any(n.endswith("-trace.zip") for n in names), "a failed item kept its trace"
    assert any(n.endswith("-screenshot.png") for n in names), "and its screenshot"
    assert any(n.endswith("-page.html") for n in names), "and its page"
    secrets = {
        "password": portal.credentials.password.encode(),
        "TOTP secret": portal.credentials.totp_secret.encode(),
    }
    for name, data in written:
        for what, secret in secrets.items():
            assert secret not in data, f"the {what} is in {name}"
