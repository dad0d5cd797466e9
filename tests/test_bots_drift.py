"""Selector drift: the client's portal changes under the bots; they notice before typing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from bot_helpers import (
    SELECTORS,
    assert_drift_stopped_the_run,
    engagement_for,
    map_with,
    portal_env,
    write_engagements,
)
from playwright.sync_api import Page
from sandbox_helpers import running_portal

from bots import RunOptions, check_selectors, run_engagement
from bots.portals import load_map
from sandbox.acme import STATIC_DIR
from schemas.engagement import Engagement
from schemas.selector_map import SelectorMapError
from schemas.settings import Settings
from schemas.work import ItemState, RunStatus
from store import Store


def _upgraded_acme(
    folder: Path, script: str = "editor.js", old: str = "external-ref", new: str = "ext-reference"
) -> Path:
    """A copy of the acme UI where one script renamed one test id (by default, the editor's
    external-reference field)."""
    shutil.copytree(STATIC_DIR, folder)
    path = folder / script
    text = path.read_text(encoding="utf-8")
    assert text.count(f'testid: "{old}"') == 1, old
    path.write_text(text.replace(f'testid: "{old}"', f'testid: "{new}"'), "utf-8")
    return folder


def _checked(engagement: Engagement, home: Path, today: date) -> list[str]:
    """The keys `check-selectors` reports as drifted (read-only)."""
    report = check_selectors(engagement, Settings(home=home), today)
    return [d.key for d in report.drifts]


def test_check_selectors_runs_where_playwright_already_runs(page: Page, tmp_path: Path) -> None:
    """The `page` fixture holds a sync Playwright in this thread, as a web request's thread
    or another bot's may: the check opens its own in a thread of its own, and finds no drift
    in an unchanged portal."""
    assert page.evaluate("1 + 1") == 2
    with running_portal(tmp_path / "portal", "acme", opportunities=2) as portal:
        report = check_selectors(
            engagement_for(portal), Settings(home=tmp_path / "home"), portal.config.today
        )
    assert report.drifts == []
    assert report.selectors > 20


@pytest.mark.parametrize(
    ("test_id", "key"),
    [
        ("line-prior-price", "opportunity.lines.prior_unit_price"),
        ("line-renew", "opportunity.lines.renew"),
    ],
)
def test_a_renamed_acme_list_cell_is_drift_not_a_missing_value(
    tmp_path: Path, quotebot_store: Store, test_id: str, key: str
) -> None:
    """The opportunity page renamed a cell: read as "", a prior price would price every
    renewal from the list price instead, a renew flag would renew lines the customer gave
    notice on. It stops the run, named, before anything is typed."""
    assets = _upgraded_acme(tmp_path / "acme-ui", "app.js", test_id, test_id + "-v2")
    with running_portal(tmp_path / "portal", "acme", opportunities=5, acme_assets=assets) as portal:
        engagement = engagement_for(portal, workers=1)
        options = RunOptions(today=portal.config.today, progress=False)
        settings = Settings(home=tmp_path / "home")
        result = run_engagement(
            engagement, "quote", quotebot_store, settings=settings, options=options
        )
        assert_drift_stopped_the_run(result, quotebot_store, engagement, key)
        assert "/opportunities/OPP-" in result.drift.url
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was entered in the portal"
        assert key in _checked(engagement, tmp_path / "home", portal.config.today)


def test_a_renamed_globex_list_cell_is_drift(tmp_path: Path, quotebot_store: Store) -> None:
    """The map of a Globex client whose install-base grid lost its quantity column."""
    key = "opportunity.lines.quantity"
    selectors = map_with(tmp_path / "map", "globex", key, "td.qty")
    with running_portal(tmp_path / "portal", "globex", opportunities=5) as portal:
        engagement = engagement_for(portal, workers=1, selectors=selectors)
        options = RunOptions(today=portal.config.today, progress=False)
        settings = Settings(home=tmp_path / "home")
        result = run_engagement(
            engagement, "quote", quotebot_store, settings=settings, options=options
        )
        assert_drift_stopped_the_run(result, quotebot_store, engagement, key)
        assert "/opportunities/OPP-" in result.drift.url
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was entered in the portal"
        assert key in _checked(engagement, tmp_path / "home", portal.config.today)


def test_a_map_lacking_a_cell_its_flavour_reads_is_refused(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load((SELECTORS / "acme.yaml").read_text(encoding="utf-8"))
    del data["pages"]["quote"]["cells"]["lines"]["unit_price"]
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SelectorMapError) as refused:
        load_map("acme", path)
    assert str(path) in str(refused.value)
    assert "pages.quote" in str(refused.value) and "lines.unit_price" in str(refused.value)
    with pytest.raises(SelectorMapError, match="'acme', not 'globex'"):
        load_map("globex", SELECTORS / "acme.yaml")


def test_changed_portal_is_reported_as_drift_before_anything_is_typed(
    tmp_path: Path, quotebot_store: Store
) -> None:
    assets = _upgraded_acme(tmp_path / "acme-ui")
    with running_portal(tmp_path / "portal", "acme", opportunities=5, acme_assets=assets) as portal:
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
