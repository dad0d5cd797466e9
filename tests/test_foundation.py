"""The foundation: the command line answers, and the configured Chromium really runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect


def test_cli_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quotebot", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: quotebot" in result.stdout


def test_chromium_renders_a_page(page: Page) -> None:
    page.set_content("<h1 data-testid='t'>quotebot</h1>")
    expect(page.get_by_test_id("t")).to_have_text("quotebot")


@pytest.mark.xdist_group("foundation")
def test_test_groups_hold_under_loadgroup(request: pytest.FixtureRequest) -> None:
    """`make test` keeps the tests of one `xdist_group` (sharing an expensive fixture) on one
    process. pytest 9.2 with pytest-xdist 3.8 silently dropped the groups (pytest-xdist#1386):
    the web fixture was built once per process and the Tryton set-up tests ran side by side."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with --dist loadgroup")
    assert request.node.nodeid.endswith("@foundation"), request.node.nodeid
