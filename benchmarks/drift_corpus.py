"""The drift corpus as a table, and what a fingerprint costs (issue 29).

    .venv/bin/python benchmarks/drift_corpus.py [--repeat 50] [--rows 300]

For every case of tests/drift_corpus/cases.yaml: the key, the change, the best candidate's
locator, its score, its lead over the runner-up, whether it was proposed (confident) and
whether it is the right element. Then the cost of fingerprinting, per key, on the saved
acme and globex pages in one Chromium: `capture` (one round trip) against
`Locator.inner_text()` on the same key, a round trip every bot already makes, as the
baseline measured in the same run; `capture_all` of a page's keys in one round trip
against reading them one by one; a whole page's survey (what a drift costs), and the
survey of a long page (acme's renewal list with `--rows` rows).
Figures are printed, never asserted.
"""

# ruff: noqa: T201  (a benchmark prints its figures)
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from drift_helpers import (  # noqa: E402
    CORPUS,
    corpus_served,
    load_cases,
    locate,
    run_case,
    selector_map,
    table,
)

from bots import launch_options  # noqa: E402
from bots._repair import capture, capture_all, suggest  # noqa: E402
from schemas.settings import Settings  # noqa: E402

# Pages and keys whose capture is timed: the keys a quote run touches on each page.
TIMED = {
    ("acme", "editor.html", "editor"): ["term_start", "external_ref", "line_quantity", "save"],
    ("acme", "opportunity.html", "opportunity"): ["title", "currency", "lines.quantity"],
    ("globex", "editor.html", "editor"): ["term_start", "quantity", "unit_price", "save"],
    ("globex", "opportunity.html", "opportunity"): ["account_name", "lines.quantity"],
}


def _ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _paired_ms(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Both actions' medians, taken in turns: a busy machine slows both alike."""
    a, b = [], []
    for _ in range(repeat):
        a.append(_ms(first, 1))
        b.append(_ms(second, 1))
    return statistics.median(a), statistics.median(b)


def big_page(page: Page, base_url: str, folder: Path, rows: int) -> None:
    """A drift on a long page: acme's renewal list with `rows` rows, its Next button lost."""
    html = (CORPUS / "acme" / "opportunities.html").read_text(encoding="utf-8")
    row = re.search(r'<tr data-testid="opportunity-row".*?</tr>', html)
    assert row is not None
    (folder / "original" / "acme" / "long.html").write_text(
        html.replace(row.group(0), row.group(0) * rows, 1), encoding="utf-8"
    )
    page.goto(f"{base_url}/original/acme/long.html")
    next_button = page.locator("[data-testid=page-next]")
    fp = capture(next_button)
    assert fp is not None
    elements = page.evaluate("document.querySelectorAll('*').length")
    next_button.evaluate("(b) => b.remove()")
    start = time.perf_counter()
    found = suggest(page, fp)
    took = (time.perf_counter() - start) * 1000
    best = found.candidates[0].selector if found.candidates else None
    print(
        f"a drift on a page of {elements} elements ({rows} rows, Next removed): survey "
        f"{took:.0f} ms; best {best}, proposed: {found.confident is not None} ({found.reason})"
    )


def costs(page: Page, base_url: str, folder: Path, repeat: int, rows: int) -> None:
    print(f"\nfingerprint cost (median of {repeat}, ms; each pair taken in turns)")
    print(f"{'page':<26} {'key':<16} {'inner_text':>10} {'capture':>8} {'ratio':>6}")
    captures, baselines, per_key_all = [], [], []
    for (flavour, file, page_name), keys in TIMED.items():
        spec = selector_map(flavour).page(page_name)
        page.goto(f"{base_url}/original/{flavour}/{file}")
        for key in keys:
            locator, _ = locate(page, spec, key)
            locator.first.wait_for(state="attached")
            base, cost = _paired_ms(
                lambda: locator.first.inner_text(),  # noqa: B023 (called in this iteration)
                lambda: capture(locator),  # noqa: B023
                repeat,
            )
            captures.append(cost)
            baselines.append(base)
            print(
                f"{flavour + '/' + file:<26} {key:<16} {base:>10.2f} {cost:>8.2f} "
                f"{cost / base:>6.2f}"
            )
        plain = [k for k in keys if "." not in k]
        root = page.frame_locator(spec.frame) if spec.frame else page
        selectors = {k: spec.selectors[k] for k in plain}
        one_by_one, together = _paired_ms(
            lambda: [root.locator(s).first.inner_text() for s in selectors.values()],  # noqa: B023
            lambda: capture_all(root, selectors),  # noqa: B023
            repeat,
        )
        per_key_all.append(together / len(plain))
        print(
            f"{flavour + '/' + file:<26} {f'{len(plain)} keys at once':<16} "
            f"{one_by_one:>10.2f} {together:>8.2f} {together / one_by_one:>6.2f}"
        )
        fp = capture(locate(page, spec, keys[0])[0])
        assert fp is not None
        survey = _ms(lambda: suggest(page, fp), max(3, repeat // 10))  # noqa: B023
        print(f"{flavour + '/' + file:<26} {'(a drift: survey)':<16} {'':>10} {survey:>8.2f}")
    big_page(page, base_url, folder, rows)
    print(
        f"per key: capture {statistics.median(captures):.2f} ms against inner_text "
        f"{statistics.median(baselines):.2f} ms in the same run; a page's keys at once "
        f"{statistics.median(per_key_all):.2f} ms a key"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rows", type=int, default=300, help="rows of the long page")
    args = parser.parse_args()
    cases = load_cases()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(**launch_options(Settings()))
        page = browser.new_page()
        with corpus_served(Path(tmp), cases) as base_url:
            outcomes = [run_case(page, base_url, case) for case in cases]
            print(table(outcomes))
            changes = [o for o in outcomes if not o.case.trap]
            print(
                f"\nbest is right: {sum(o.best_is_right for o in changes)} of {len(changes)} "
                f"changes; proposed: {sum(1 for o in outcomes if o.suggestion.confident)} of "
                f"{len(outcomes)} cases, wrong proposals: "
                f"{sum(1 for o in outcomes if o.confident_is_right is False)}"
            )
            costs(page, base_url, Path(tmp), args.repeat, args.rows)
        browser.close()


if __name__ == "__main__":
    main()
