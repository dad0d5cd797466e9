"""The drift corpus (tests/drift_corpus/): its cases, the changed copies, and each case run.

    with corpus_served(tmp_path) as base_url:
        outcome = run_case(page, base_url, case)

A case fingerprints its key on the original copy of the page (in real Chromium), loads the
changed copy and checks the key there (`bots._repair.check_key`): what its selector finds,
and where the element went.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FrameLocator, Locator, Page

from bots._repair import capture, check_key, confirmed_by_value
from schemas.fingerprint import Candidate, KeyCheck, Suggestion
from schemas.selector_map import PageSelectors, SelectorMap, load_selector_map

CORPUS = Path(__file__).parent / "drift_corpus"
SELECTORS = Path(__file__).parent.parent / "selectors"
STATIC = Path(__file__).parent.parent / "sandbox" / "static"

# Ids written `GEN` in a case get a number that changes on every load, labels following.
_GENERATED_IDS = """<script>
for (const el of document.querySelectorAll('[id*="GEN"]')) {
  const id = el.id.replace("GEN", String(100000 + Math.floor(Math.random() * 900000)));
  document.querySelectorAll(`label[for="${el.id}"]`).forEach((l) => { l.htmlFor = id; });
  el.id = id;
}
</script>
</body>"""


@dataclass(frozen=True)
class Case:
    """One change of the corpus (see cases.yaml)."""

    id: str
    flavour: str
    file: str
    key: str
    change: str
    edits: tuple[dict[str, Any], ...]
    right: str | None
    read: bool = False
    trap: bool = False
    open: str | None = None

    @property
    def page_name(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def opened(self) -> str:
        return self.open or self.file


def load_cases() -> list[Case]:
    raw = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))
    return [Case(**{**c, "edits": tuple(c["edits"])}) for c in raw]


def selector_map(flavour: str) -> SelectorMap:
    return load_selector_map(SELECTORS / f"{flavour}.yaml")


def _drift(text: str, case: Case) -> str:
    for edit in case.edits:
        old, new, count = edit["old"], edit["new"], edit.get("count", 1)
        if edit.get("regex"):
            text, found = re.subn(old, new, text)
        else:
            found = text.count(old)
            text = text.replace(old, new)
        assert found == count, f"{case.id}: {old[:60]!r} found {found} times, not {count}"
    if "GEN" in text:
        text = text.replace("</body>", _GENERATED_IDS, 1)
    return text


def write_corpus(folder: Path, cases: list[Case]) -> None:
    """`folder/original/<flavour>/…` and, per case, `folder/<case>/<flavour>/…` changed."""
    for flavour in ("acme", "globex"):
        _copy_pages(flavour, folder / "original" / flavour)
    for case in cases:
        target = folder / case.id / case.flavour
        _copy_pages(case.flavour, target)
        path = target / case.file
        path.write_text(_drift(path.read_text(encoding="utf-8"), case), encoding="utf-8")


def _copy_pages(flavour: str, target: Path) -> None:
    """The saved pages of a flavour, and beside them the sandbox's style sheet they link."""
    shutil.copytree(CORPUS / flavour, target)
    for sheet in (STATIC / flavour).glob("*.css"):
        shutil.copy(sheet, target / sheet.name)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def corpus_served(folder: Path, cases: list[Case]) -> Iterator[str]:
    """The original and changed copies, served over HTTP on localhost (a real page load:
    declarative shadow roots and the generated ids' script need one)."""
    write_corpus(folder, cases)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Outcome:
    """What `suggest` made of one case."""

    case: Case
    check: KeyCheck
    """What the map's selector finds on the changed page."""
    suggestion: Suggestion
    best_is_right: bool
    confident_is_right: bool | None
    """None: nothing proposed."""
    old_selector_finds_it: bool
    """The map's selector still finds the right element (then the case is no drift)."""
    located: tuple[int, ...] = ()
    """How many elements each candidate's locator finds on the changed page (-1: none built)."""
    confirmed: tuple[bool, ...] = ()
    """For a read key, each candidate: it shows the value the original page showed."""

    @property
    def best(self) -> Candidate | None:
        return self.suggestion.candidates[0] if self.suggestion.candidates else None


def locate(page: Page, spec: PageSelectors, key: str) -> tuple[Locator, Locator | None]:
    """The key's locator as the page objects build it, and the row for a row cell."""
    root = page.frame_locator(spec.frame) if spec.frame else page
    if "." in key:
        rows, cell = key.split(".")
        row = root.locator(spec.selectors[rows]).first
        return row.locator(spec.cells[rows][cell]), row
    return root.locator(spec.selectors[key]), None


def _same(a: Locator, b: Locator) -> bool:
    try:
        if a.count() != 1 or b.count() != 1:
            return False
        return bool(a.evaluate("(x, y) => x === y", b.element_handle()))
    except PlaywrightError:  # in two different frames
        return False


def _root(page: Page, candidate: Candidate, row: Locator | None) -> Page | Locator | FrameLocator:
    """What a candidate's locator is relative to: the row, its frame or the page."""
    if row is not None:
        return row
    return page.frame_locator(candidate.frame) if candidate.frame else page


def run_case(page: Page, base_url: str, case: Case) -> Outcome:
    spec = selector_map(case.flavour).page(case.page_name)
    key = case.key.split(".", 1)[1]
    page.goto(f"{base_url}/original/{case.flavour}/{case.opened}")
    old, _ = locate(page, spec, key)
    old.first.wait_for(state="attached")
    fingerprint = capture(old, read=case.read)
    assert fingerprint is not None, case.id
    value = old.first.inner_text() if case.read else None  # what the store would know

    page.goto(f"{base_url}/{case.id}/{case.flavour}/{case.opened}")
    old, row = locate(page, spec, key)
    root = row or (page.frame_locator(spec.frame) if spec.frame else page)
    right = root.locator(case.right) if case.right else None
    if right is not None:
        assert right.count() == 1, f"{case.id}: {case.right} finds {right.count()} elements"
    selector = spec.cells[key.split(".")[0]][key.split(".")[1]] if row else spec.selectors[key]
    check = check_key(
        page, case.page_name, key, selector, old, fingerprint, read=case.read, within=row
    )
    suggestion = check.suggestion or Suggestion(
        candidates=(), margin=0.0, reason="the key still finds its element"
    )

    def found(candidate: Candidate | None) -> bool:
        if candidate is None or candidate.selector is None or right is None:
            return False
        if row is not None:
            return _same(row.locator(candidate.selector), right)
        if candidate.frame != spec.frame:
            return False
        frame_root = page.frame_locator(candidate.frame) if candidate.frame else page
        return _same(frame_root.locator(candidate.selector), right)

    best = suggestion.candidates[0] if suggestion.candidates else None
    confident = suggestion.confident
    located = tuple(
        -1 if c.selector is None else _root(page, c, row).locator(c.selector).count()
        for c in suggestion.candidates
    )
    confirmed = (
        tuple(confirmed_by_value(page, c, value, within=row) for c in suggestion.candidates)
        if value is not None
        else ()
    )
    return Outcome(
        case=case,
        check=check,
        suggestion=suggestion,
        best_is_right=found(best),
        confident_is_right=None if confident is None else found(confident),
        old_selector_finds_it=right is not None and _same(old, right),
        confirmed=confirmed,
        located=located,
    )


def table(outcomes: list[Outcome]) -> str:
    """The results, one line a case: key, what its selector finds now (and how alike it is),
    the best candidate, its score, its lead, whether it is proposed and right, the change."""
    lines = [
        f"{'case':<32} {'key':<28} {'the key now':<26} {'best candidate':<44} {'score':>5} "
        f"{'margin':>6}  {'proposed':<8} right?  change"
    ]
    for o in outcomes:
        best = o.best
        where = "-" if best is None else (best.selector or "(no locator)")
        if best is not None and best.frame:
            where = f"{best.frame} >> {where}"
        if o.case.right is None:
            verdict = "gone, nothing proposed" if o.confident_is_right is None else "WRONG"
        elif o.confident_is_right is False:
            verdict = "WRONG (proposed)"
        else:
            verdict = "yes" if o.best_is_right else "no"
        now = o.check.status_label
        if o.check.likeness is not None:
            now += f" {o.check.likeness:.2f}"
        lines.append(
            f"{o.case.id:<32} {o.case.key:<28} {now:<26} {where[:44]:<44} "
            f"{best.score if best else 0:>5.2f} {o.suggestion.margin:>6.2f}  "
            f"{'yes' if o.suggestion.confident else 'no':<8} {verdict:<7} "
            f"{'trap: ' if o.case.trap else ''}{o.case.change}"
        )
    return "\n".join(lines)
