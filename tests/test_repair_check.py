"""check-selectors on a portal that changed: a key that now finds *another* element (acme's
Next button's test id moved onto a wrapper, globex's quantity column moved) is named as
drift with where its element went, never a crash or a misread value (issue 29, must-show 2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bot_helpers import engagement_for, portal_env, write_engagements
from sandbox_helpers import running_portal

from bots import check_selectors
from sandbox.acme import STATIC_DIR
from sandbox.globex_web import TEMPLATES_DIR
from schemas.settings import Settings
from store import open_store

_NEXT = (
    'el("button", { type: "button", testid: "page-next", text: "Next ›",\n'
    "        disabled: data.page >= data.pages, "
    "onclick: () => go({ page: String(data.page + 1) }) })"
)
_WRAPPED = (
    'el("span", { class: "pager-next", testid: "page-next" }, '
    'el("button", { type: "button", text: "Next ›",\n'
    "        disabled: data.page >= data.pages, "
    "onclick: () => go({ page: String(data.page + 1) }) }))"
)


def _acme_with_wrapped_next(folder: Path) -> Path:
    """The acme UI of a client whose pager wrapped its Next button (the test id moved)."""
    shutil.copytree(STATIC_DIR, folder)
    app = folder / "app.js"
    text = app.read_text(encoding="utf-8")
    assert text.count(_NEXT) == 1
    app.write_text(text.replace(_NEXT, _WRAPPED), encoding="utf-8")
    return folder


def _globex_with_moved_column(folder: Path) -> Path:
    """The globex opportunity page of a client whose install base swapped two columns."""
    folder.mkdir(parents=True)
    text = (TEMPLATES_DIR / "opportunity.html").read_text(encoding="utf-8")
    swaps = [
        (
            '<th scope="col">Description</th><th scope="col">Quantity</th>',
            '<th scope="col">Quantity</th><th scope="col">Description</th>',
        ),
        (
            '<td>{{ line.description }}</td>\n<td class="num">{{ line.quantity }}</td>',
            '<td class="num">{{ line.quantity }}</td>\n<td>{{ line.description }}</td>',
        ),
    ]
    for old, new in swaps:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "opportunity.html").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_wrapped_acme_next_button_is_drift_with_its_candidates(tmp_path: Path) -> None:
    """A good check keeps each key's fingerprint; on the changed portal the Next key finds a
    <span>: named as drift ('finds another element'), its button the proposed candidate,
    instead of a `Locator.is_disabled` time-out."""
    settings = Settings(home=tmp_path / "home")
    with running_portal(tmp_path / "good", "acme", opportunities=3) as portal:
        good = check_selectors(engagement_for(portal), settings, portal.config.today)
    assert good.drifts == []
    with open_store(settings.effective_database_url) as store:
        kept = store.fingerprints("acme", "acme")
    assert kept["opportunities.next"][1].tag == "button"
    assert len(kept) > 20, sorted(kept)

    assets = _acme_with_wrapped_next(tmp_path / "acme-ui")
    with running_portal(tmp_path / "bad", "acme", opportunities=3, acme_assets=assets) as portal:
        report = check_selectors(engagement_for(portal), settings, portal.config.today)
    assert [d.key for d in report.drifts] == ["opportunities.next"]
    check = next(c for c in report.checks if c.key == "next")
    assert check.status == "changed" and check.suggestion is not None
    best = check.suggestion.candidates[0]
    assert best.tag == "button" and best.selector == "[data-testid=page-next] > button", best
    assert check.suggestion.confident == best
    assert report.proposed_map is not None
    assert 'next: "[data-testid=page-next] > button"' in report.proposed_map


@pytest.mark.slow
def test_a_moved_globex_column_is_drift_with_suggest_json(tmp_path: Path) -> None:
    """The install base's quantity column now holds the description: named as drift of
    `opportunity.lines.quantity`, not `PortalError unreadable_number`; `check-selectors
    --suggest --json` prints one object a key and writes the proposed map beside the
    engagement's."""
    home = tmp_path / "home"
    settings = Settings(home=home)
    with running_portal(tmp_path / "good", "globex", opportunities=3) as portal:
        assert check_selectors(engagement_for(portal), settings, portal.config.today).drifts == []
    selectors = tmp_path / "maps" / "globex.yaml"
    selectors.parent.mkdir()
    shutil.copy(engagement_for(portal).selectors, selectors)
    templates = _globex_with_moved_column(tmp_path / "globex-ui")
    with running_portal(
        tmp_path / "bad", "globex", opportunities=3, globex_templates=templates
    ) as portal:
        engagement = engagement_for(portal, selectors=selectors)
        path = write_engagements(tmp_path / "engagements.yaml", [engagement])
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "quotebot",
                "check-selectors",
                "globex",
                "--engagements",
                str(path),
                "--today",
                portal.config.today.isoformat(),
                "--suggest",
                "--json",
            ],
            env={**os.environ, **portal_env(engagement), "QUOTEBOT_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"page", "key", "selector", "status", "candidates"} <= lines[0].keys()
    drifted = [o for o in lines if o["status"] != "matches"]
    assert [(o["page"], o["key"], o["status"]) for o in drifted] == [
        ("opportunity", "lines.quantity", "changed")
    ], drifted
    best = drifted[0]["candidates"][0]
    assert best["selector"] == "td:nth-child(3)" and best["score"] > 0.6, best
    proposed = selectors.with_name("globex.proposed.yaml").read_text(encoding="utf-8")
    assert 'quantity: "td:nth-child(3)"' in proposed
    assert "unreadable" not in done.stdout + done.stderr
