"""Finding where a portal element went when the portal changed (groundwork for repairs).

## What it does

Each time a selector map key finds its element, `capture` keeps a small fingerprint of it
(`schemas.fingerprint.ElementFingerprint`: tag, role and accessible name, label, id, name,
`data-*` attributes, classes, text or, for a read key, the value's shape, neighbouring
texts, the column header of a cell, its place in the page and in its form or table), in one
round trip; `capture_all` takes a page's keys together, in one round trip for them all.

`check_key` tells a key that still finds its element (perhaps showing another record) from
one that finds nothing or finds *another* element (a wrapper that took the test id, a
moved column): drifts `check-selectors` must name, not crash on. For those, `suggest`
surveys the live page (every frame, open shadow roots included; one round trip per frame),
scores each element against the fingerprint (`_score` says how the weights were chosen),
keeps the best few and builds for each a locator in the selector map's style (a test id,
an id or a generated id's stable prefix, a name, a cell's column, a short path from a close
ancestor with an identity, a button's text, a longer path) that finds it and nothing else.
`confirmed_by_value` checks a read key's candidate against a value the store knows;
`patched_map` writes a proposal into the map's YAML (that line only, comments kept, the
result read back and checked) and `map_diff` shows it as a patch for people.

## When a candidate is proposed

Only as a proposal: `Suggestion.confident` is set when the best scores `THRESHOLD` (0.6) or
more, leads the runner-up by `MARGIN`, is visible, has a locator, and beats every other
element of its tag (an input: of its type) on label, name, id and text evidence (the
neighbouring input of the same type, the second button with the same text). Every
candidate says which properties matched (`Candidate.matched`) and the suggestion says why
it is or is not proposed (`reason`), for the people who approve.

## In runs

`watch_for` gives each bot a `KeyWatch`: the fingerprints the store keeps for the
engagement (per flavour, key and map version), and each page fingerprinted once a run as
it opens (`capture_all`, one round trip) with the new ones stored. A key whose element is
now unlike its fingerprint, or that finds nothing, is raised as `DriftEvidence` (a
`SelectorDrift`) with its candidates scored on the live page and a screenshot with the best
outlined; the engines hand it to `open_ticket`, which files the drift ticket with the map
patch. Nothing is healed: a person approves the patch on the repair pages.

One exception, the engagement's choice (`repair.use_confident_reads`, off by default): a
drifted *read* key whose candidate is confident and shows the value the store knows for
the record on screen (`KeyWatch.read_at_candidate`: the opportunity's account name, from
the renewal list) is read there for the rest of that run; the map file is not written, and
the ticket says so ("Used for run 12 by the engagement's choice; approve to keep it") and
waits for a person as ever. A key the bot types into, clicks or submits never is; with no
known value to confirm the candidate by, or in a selector check, the run stops as ever.

    kept = capture_all(page, {"title": "[data-testid=opp-title]"}, read={"title"})
    ...  # later, on a changed page
    check = check_key(page, "opportunity", "title", selector, page.locator(selector),
                      kept["title"], read=True)
    check.status_label          # "finds nothing" / "finds another element" / ...
    check.suggestion.confident  # a Candidate, or None (check.suggestion.reason says why)

## Measured

`tests/test_repair_drift_corpus.py`: 24 changes to copies of the acme and globex pages and
10 traps (`tests/drift_corpus/cases.yaml`); `benchmarks/drift_corpus.py` prints the table,
the cost of a capture per key against `inner_text` on the same key, and a long page's
survey.
"""

from bots._repair._candidates import capture, capture_all, fingerprint_of, suggest
from bots._repair._patch import PatchError, map_diff, patched_map
from bots._repair._score import MARGIN, THRESHOLD, WEIGHTS
from bots._repair._tickets import open_ticket, watch_for
from bots._repair._verify import SAME, check_key, confirmed_by_value
from bots._repair._watch import DriftEvidence, KeyWatch, is_write, map_version

__all__ = [
    "open_ticket",
    "watch_for",
    "DriftEvidence",
    "KeyWatch",
    "is_write",
    "map_version",
    "SAME",
    "PatchError",
    "map_diff",
    "patched_map",
    "check_key",
    "confirmed_by_value",
    "MARGIN",
    "THRESHOLD",
    "WEIGHTS",
    "capture",
    "capture_all",
    "fingerprint_of",
    "suggest",
]
