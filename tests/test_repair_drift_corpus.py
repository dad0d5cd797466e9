"""When a portal changes, the bot finds where each element went: the drift corpus.

Each key is fingerprinted on a copy of the sandbox's page in real Chromium; the copy is
changed the way real portals change (tests/drift_corpus/cases.yaml) and the live changed
page is scored against the fingerprint. The right element must be the best candidate in at
least 22 of the 24 changes; no proposal (a confident candidate) may ever be a wrong element,
traps included; an element removed outright gets no proposal. A failure shows the table
`benchmarks/drift_corpus.py` prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from drift_helpers import Outcome, corpus_served, load_cases, run_case, table
from playwright.sync_api import Browser

from bots._repair import SAME

CASES = load_cases()

# one worker runs the corpus (a minute of browser work) once for every test of the module
pytestmark = [pytest.mark.xdist_group("drift-corpus"), pytest.mark.slow]


@pytest.fixture(scope="module")
def outcomes(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Outcome]]:
    folder = tmp_path_factory.mktemp("drift-corpus")
    page = browser.new_page()
    with corpus_served(folder, CASES) as base_url:
        results = [run_case(page, base_url, case) for case in CASES]
    page.close()
    yield results


def test_the_corpus_has_twelve_changes_per_flavour_and_the_traps() -> None:
    for flavour in ("acme", "globex"):
        mine = [c for c in CASES if c.flavour == flavour]
        assert len([c for c in mine if not c.trap]) >= 12, flavour
        traps = [c for c in mine if c.trap]
        assert any(c.right is None for c in traps), f"{flavour}: no element removed outright"
        assert any("same text" in c.change for c in traps), f"{flavour}: no second button"
        assert any("same type" in c.change for c in traps), f"{flavour}: no neighbouring input"


def test_every_case_is_a_real_drift_and_is_named_so(outcomes: list[Outcome]) -> None:
    """The map's selector no longer finds the element (or finds another one, as a wrapper
    that took the test id does): each case is a drift the bots would meet, and the key's
    check says so."""
    still = [o.case.id for o in outcomes if o.old_selector_finds_it]
    assert still == [], table(outcomes)
    unnoticed = [o.case.id for o in outcomes if o.check.status == "matches"]
    assert unnoticed == [], table(outcomes)


@pytest.mark.parametrize("case_id", ["acme-wrapper-added", "globex-column-moved"])
def test_what_crashes_check_selectors_today_is_a_named_drift_with_its_element(
    outcomes: list[Outcome], case_id: str
) -> None:
    """The selector still finds an element, but another one: a <span> that took the test
    id of acme's Next button (a `Locator.is_disabled` timeout today), the description now
    in globex's quantity column (`PortalError unreadable_number` today). The key is named
    as finding another element, and the right one is proposed, with a locator."""
    outcome = next(o for o in outcomes if o.case.id == case_id)
    assert outcome.check.status == "changed", outcome.check
    assert outcome.check.status_label == "finds another element"
    assert outcome.check.likeness is not None and outcome.check.likeness < SAME
    assert outcome.confident_is_right, f"{case_id}: {outcome.suggestion}"
    as_json = json.loads(outcome.check.model_dump_json())
    assert as_json["key"] and as_json["selector"] and as_json["suggestion"]["candidates"]


def test_the_right_element_is_the_best_candidate_in_22_of_24(outcomes: list[Outcome]) -> None:
    changes = [o for o in outcomes if not o.case.trap]
    missed = [o.case.id for o in changes if not o.best_is_right]
    assert len(changes) >= 24
    assert len(changes) - len(missed) >= 22, f"missed {missed}\n{table(outcomes)}"


def test_no_confident_candidate_is_ever_a_wrong_element(outcomes: list[Outcome]) -> None:
    wrong = [o.case.id for o in outcomes if o.confident_is_right is False]
    assert wrong == [], table(outcomes)
    # and caution is not all it does: most changes get a proposal, and it is right
    proposed = [o for o in outcomes if not o.case.trap and o.confident_is_right]
    assert len(proposed) >= 12, f"{len(proposed)} proposals\n{table(outcomes)}"


def test_a_removed_element_gets_no_confident_candidate(outcomes: list[Outcome]) -> None:
    removed = [o for o in outcomes if o.case.right is None]
    assert len(removed) >= 4
    for outcome in removed:
        assert outcome.suggestion.confident is None, f"{outcome.case.id}\n{table(outcomes)}"
        assert outcome.suggestion.reason


def test_each_candidates_locator_finds_one_element_on_the_changed_page(
    outcomes: list[Outcome],
) -> None:
    """Locators in the map's style, counted again on the changed page as a map would use
    them: each finds exactly one element, and nearly every candidate has one."""
    counts = [n for o in outcomes for n in o.located]
    assert [n for n in counts if n not in (1, -1)] == [], table(outcomes)
    assert counts.count(-1) <= len(counts) // 10, f"{counts.count(-1)} with no locator"
    assert all(o.located and o.located[0] == 1 for o in outcomes if o.best_is_right)


def test_an_invisible_element_is_never_proposed(outcomes: list[Outcome]) -> None:
    """Healenium's users saw heals onto hidden elements: found, listed, never proposed."""
    hidden = [o for o in outcomes if "hidden" in o.case.change]
    assert len(hidden) >= 2
    for outcome in hidden:
        assert outcome.best_is_right, outcome.case.id
        assert outcome.suggestion.confident is None, outcome.case.id
        assert "hidden" in outcome.suggestion.reason
    assert all(o.suggestion.confident.visible for o in outcomes if o.suggestion.confident)


def test_a_generated_id_is_located_by_what_does_not_change(outcomes: list[Outcome]) -> None:
    generated = [o for o in outcomes if "generated ids" in o.case.change]
    assert len(generated) >= 2
    for outcome in generated:
        best = outcome.best
        assert best is not None and best.selector and outcome.best_is_right, outcome.case.id
        assert not re.search(r"\d{6}", best.selector), best.selector


def test_a_read_keys_candidate_is_confirmed_by_the_value_the_store_knows(
    outcomes: list[Outcome],
) -> None:
    """The changed page shows the same renewal: the right candidate shows the value read
    before the change, and a wrong one (what took a removed element's place) does not."""
    read = [o for o in outcomes if o.case.read]
    assert len(read) >= 10
    for outcome in read:
        if outcome.best_is_right:
            assert outcome.confirmed[0], outcome.case.id
        if outcome.case.right is None:
            assert not outcome.confirmed[0], outcome.case.id
    wrong_ones = [c for o in read for c in o.confirmed[1:]]
    assert wrong_ones and not all(wrong_ones)
