"""A failed item has its evidence without every item being traced: a failed attempt keeps
its screenshot and the page's HTML, an item's retried attempt is traced, an attempt that
went well leaves nothing; the page's HTML reaches operations as a download, never as a page
of our site (a portal's scripts would run as ours)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page
from web_site import csrf, signed_in, two_clients_site

from bots._evidence import Evidence
from schemas.work import EvidenceKind

PAGE = "<html><body><h1>Quote QB-{n}</h1><input type=password value=hunter2></body></html>"


def _failed(
    evidence: Evidence, context: BrowserContext, page: Page | None = None, item_id: int = 0
) -> list[str]:
    """End an attempt from an exception handler, as the engines end a failed one: kept
    (given up) when `page` is given, else dropped (to be tried again)."""
    try:
        raise TimeoutError("the portal did not answer")
    except TimeoutError:
        if page is not None:
            return [kind for kind, _ in evidence.keep_item(context, page, item_id)]
        evidence.discard_item(context)
        return []


def test_a_failed_attempt_keeps_its_page_and_the_retried_attempt_is_traced(
    browser: Browser, tmp_path: Path
) -> None:
    evidence = Evidence(tmp_path / "evidence", "acme")
    context = browser.new_context()
    evidence.start(context)
    page = context.new_page()
    page.set_content(PAGE.format(n=1))

    # A first attempt is not traced: failing for good, it keeps the screenshot and page.
    evidence.begin_item(context, "QB-1")
    assert _failed(evidence, context, page, 1) == ["screenshot", "html"]
    html = next((tmp_path / "evidence" / "acme" / "1").glob("*-page.html"))
    assert "Quote QB-1" in html.read_text(encoding="utf-8")

    # Failed and tried again: the next attempt is traced, and kept when it fails too.
    evidence.begin_item(context, "QB-2")
    _failed(evidence, context)
    evidence.begin_item(context, "QB-2")
    page.set_content(PAGE.format(n=2))
    page.get_by_role("heading").click()
    kept = evidence.keep_item(context, page, 2)
    assert [kind for kind, _ in kept] == ["screenshot", "html", "trace"]
    with zipfile.ZipFile(kept[2][1]) as trace:
        assert any(name.endswith(".trace") for name in trace.namelist())

    # Another engine's worker (a fresh `Evidence`) traces an item that failed before; an
    # attempt that went well clears that, and the item's next attempt is untraced again.
    again = Evidence(tmp_path / "evidence", "acme")
    again.begin_item(context, "QB-1")
    again.discard_item(context)  # it went well
    again.begin_item(context, "QB-1")
    assert [kind for kind, _ in again.keep_item(context, page, 1)] == ["screenshot", "html"]

    # The engine's own attempt number decides where it gives one.
    again.begin_item(context, "QB-3", attempt=2)
    assert [kind for kind, _ in again.keep_item(context, page, 3)][-1] == "trace"
    again.begin_item(context, "QB-4", attempt=1)
    assert "trace" not in [kind for kind, _ in again.keep_item(context, page, 4)]
    for kept_html in (tmp_path / "evidence").rglob("*-page.html"):
        assert "hunter2" not in kept_html.read_text(encoding="utf-8")
    context.close()


def test_the_page_html_is_downloaded_as_text_never_shown(tmp_path: Path) -> None:
    with two_clients_site(tmp_path) as site:
        item_id = site.items["acme"]["system"]
        stored = Path("evidence") / "acme" / str(item_id) / "page.html"
        payload = b"<html><script>fetch('/runs', {method: 'POST'})</script></html>"
        (site.home / stored).write_bytes(payload)
        html = site.store.add_evidence(item_id, EvidenceKind.HTML, stored)
        olga = signed_in(site, "olga")
        item_page = olga.get(f"/review/{item_id}")
        csrf(item_page)  # a real page of the site, signed in
        link = f'href="/items/{item_id}/evidence/{html.id}" download>Download the page'
        assert link in item_page.text
        answer = olga.get(f"/items/{item_id}/evidence/{html.id}")
        assert answer.status_code == 200 and answer.content == payload
        assert answer.headers["content-type"].startswith("text/plain")
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["x-content-type-options"] == "nosniff"
        mia = signed_in(site, "mia")  # a manager sees every client's evidence; a rival's
        rival = signed_in(site, "gina")  # auditor does not
        assert mia.get(f"/items/{item_id}/evidence/{html.id}").status_code == 200
        assert rival.get(f"/items/{item_id}/evidence/{html.id}").status_code == 404
