"""The foundation: the command line answers, and the configured Chromium really runs."""

from __future__ import annotations

import subprocess
import sys

from playwright.sync_api import Page, expect


def test_cli_help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "quotebot", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: quotebot" in result.stdout


def test_chromium_renders_a_page(page: Page) -> None:
    page.set_content("<h1 data-testid='t'>quotebot</h1>")
    expect(page.get_by_test_id("t")).to_have_text("quotebot")
