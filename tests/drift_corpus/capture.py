"""How the drift corpus's original pages were made: each page of the acme and globex
sandbox portals that the corpus drifts, rendered in Chromium and saved as static HTML (the
scripts removed, the style sheet linked beside it), so that the copies load with no portal behind.

    .venv/bin/python tests/drift_corpus/capture.py      # rewrites tests/drift_corpus/*/*.html
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sandbox_helpers import login, running_portal  # noqa: E402

from bots import launch_options  # noqa: E402
from schemas.settings import Settings  # noqa: E402

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_TOKEN = re.compile(r'(name="(?:csrf_token|__DRAFTSTATE)" value=")[^"]*"')
_STYLESHEET = re.compile(r'<link rel="stylesheet"[^>]*? href="([^"]+)">')


def _static(html: str) -> str:
    """The page's HTML with no script, its style sheet linked beside it (the tests copy the
    sandbox's own sheet there: `drift_helpers.write_corpus`)."""

    def beside(match: re.Match[str]) -> str:
        return f'<link rel="stylesheet" href="{match.group(1).rsplit("/", 1)[-1]}">'

    # the session's form tokens are of no use to a static copy
    return _TOKEN.sub(r'\1-"', _STYLESHEET.sub(beside, _SCRIPT.sub("", html)))


def _save(page: Page, path: Path, html: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_static(html or page.content()), encoding="utf-8")


def capture_acme(page: Page, data: Path) -> None:
    with running_portal(data, "acme", opportunities=8) as portal:
        login(page, portal)
        page.goto(portal.url("/opportunities?end_from=2026-01-01&end_to=2027-12-31&page=1"))
        page.locator("[data-testid=page-next]").wait_for()
        _save(page, HERE / "acme" / "opportunities.html")
        first = page.locator("[data-testid=opp-id]").first.inner_text().strip()
        page.goto(portal.url(f"/opportunities/{first}"))
        page.locator("[data-testid=install-base-line]").first.wait_for()
        _save(page, HERE / "acme" / "opportunity.html")
        page.goto(portal.url(f"/opportunities/{first}/quote"))
        page.locator("[data-testid=quote-line-row]").first.wait_for()
        _save(page, HERE / "acme" / "editor.html")


def capture_globex(page: Page, data: Path) -> None:
    with running_portal(data, "globex", opportunities=8) as portal:
        login(page, portal)
        page.goto(portal.url("/opportunities?end_from=2026-01-01&end_to=2027-12-31&page=1"))
        first = page.locator("#ctl00_main_gvOpportunities tr.row td").first.inner_text().strip()
        page.goto(portal.url(f"/opportunities/{first}"))
        _save(page, HERE / "globex" / "opportunity.html")
        page.goto(portal.url(f"/opportunities/{first}/quote"))
        frame = page.frame_locator("iframe[name=editor]")
        frame.locator("#ctl00_main_txtTermStart").wait_for()
        outer = re.sub(r'(<iframe[^>]*\bsrc=")[^"]*"', r'\1editor_frame.html"', page.content())
        _save(page, HERE / "globex" / "editor.html", outer)
        inner = page.frame("editor")
        assert inner is not None
        _save(page, HERE / "globex" / "editor_frame.html", inner.content())


def main() -> None:
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(**launch_options(Settings()))
        page = browser.new_page()
        capture_acme(page, Path(tmp) / "acme")
        capture_globex(page, Path(tmp) / "globex")
        browser.close()


if __name__ == "__main__":
    main()
