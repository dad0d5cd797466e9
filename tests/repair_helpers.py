"""What the drift repair tests share: a store and a copy of acme's map whose every key's
fingerprint a check on the unchanged portal kept, and copies of the acme UI changed the way
a client's portal changes."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bot_helpers import SELECTORS, engagement_for
from sandbox_helpers import running_portal
from web_helpers import PASSWORD

from bots import check_selectors
from sandbox.acme import STATIC_DIR
from schemas.settings import Settings
from store import Store, open_store
from web import hash_password


@dataclass(frozen=True)
class Watched:
    home: Path
    settings: Settings
    store: Store
    selectors: Path
    """The engagements' copy of acme's map (approvals write to it)."""
    original: str
    """Its text as it was."""


def watched_acme(tmp_path: Path, *names: str) -> Watched:
    """A store with an operations user (olga, `web_helpers.PASSWORD`), a copy of acme's map,
    and a check on the unchanged portal for each engagement name (default: acme), which
    keeps every key's fingerprint."""
    home = tmp_path / "home"
    settings = Settings(home=home)
    selectors = tmp_path / "maps" / "acme.yaml"
    selectors.parent.mkdir()
    original = (SELECTORS / "acme.yaml").read_text(encoding="utf-8")
    selectors.write_text(original, encoding="utf-8")
    store = open_store(settings.effective_database_url)
    store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
    with running_portal(tmp_path / "good", "acme", opportunities=6) as portal:
        for name in names or ("acme",):
            engagement = engagement_for(portal, name=name, selectors=selectors)
            assert check_selectors(engagement, settings, portal.config.today).drifts == []
    return Watched(home, settings, store, selectors, original)


def acme_ui_with(folder: Path, script: str, old: str, new: str) -> Path:
    """A copy of the acme UI in `folder` whose `script` says `new` where it said `old` (once)."""
    shutil.copytree(STATIC_DIR, folder)
    path = folder / script
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{script}: {old} {text.count(old)} times"
    path.write_text(text.replace(old, new), "utf-8")
    return folder
