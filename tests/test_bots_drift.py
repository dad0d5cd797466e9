"""Selector drift: the client's portal changes under the bots; they notice before typing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot_helpers import engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal

from bots import RunOptions, run_engagement
from sandbox.acme import STATIC_DIR
from schemas.settings import Settings
from schemas.work import ItemState, RunStatus
from store import Store


def _upgraded_acme(folder: Path) -> Path:
    """A copy of the acme UI whose editor renamed the external-reference field."""
    shutil.copytree(STATIC_DIR, folder)
    editor = folder / "editor.js"
    text = editor.read_text(encoding="utf-8")
    assert 'testid: "external-ref"' in text
    editor.write_text(text.replace('testid: "external-ref"', 'testid: "ext-reference"'), "utf-8")
    return folder


def test_changed_portal_is_reported_as_drift_before_anything_is_typed(
    tmp_path: Path, quotebot_store: Store
) -> None:
    assets = _upgraded_acme(tmp_path / "acme-ui")
    with running_portal(tmp_path / "portal", "acme", opportunities=8, acme_assets=assets) as portal:
        engagement = engagement_for(portal, workers=1)
        store = quotebot_store
        options = RunOptions(today=portal.config.today, progress=False)
        result = run_engagement(
            engagement, "quote", store, settings=Settings(home=tmp_path / "home"), options=options
        )
        assert result.drift is not None
        assert result.drift.key == "editor.external_ref"
        assert result.drift.flavour == "acme"
        assert "/quote" in result.drift.url
        assert result.run.status is RunStatus.FAILED
        assert "editor.external_ref" in (result.run.error or "")
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was entered in the portal"
        states = {i.state for i in store.items(engagement.name)}
        assert states <= {ItemState.NEW, ItemState.PRICED, ItemState.FAILED}

        # Operations staff check every selector of the engagement, read-only.
        config = write_engagements(tmp_path / "engagements.yaml", [engagement])
        env = {**os.environ, **portal_env(engagement), "QUOTEBOT_HOME": str(tmp_path / "home")}
        check = subprocess.run(
            [
                sys.executable,
                "-m",
                "quotebot",
                "check-selectors",
                engagement.name,
                "--engagements",
                str(config),
                "--today",
                portal.config.today.isoformat(),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 1, check.stderr
        drifted = [line for line in check.stdout.splitlines() if line.startswith("DRIFT")]
        assert len(drifted) == 1 and "editor.external_ref" in drifted[0], check.stdout
        with portal.open_db() as db:
            assert db.find_quotes() == [], "checking selectors entered nothing"
