"""Finding where a portal element went when the portal changed (groundwork for repairs).

Each time a selector map key finds its element, `capture` keeps a small fingerprint of it
(`schemas.fingerprint.ElementFingerprint`: tag, role and accessible name, label, id, name,
`data-*` attributes, classes, text or, for a read key, the value's shape, neighbouring
texts, the column header of a cell, its place in the page and in its form or table), in one
round trip; `capture_all` takes a page's keys together, in one round trip for them all.
When the key stops matching, `suggest` surveys the live page (every frame, open shadow
roots included; one round trip per frame), scores each element against the fingerprint
(`_score`: the weights and why), keeps the best few and builds for each a locator in the
selector map's style (a test id, an id or a generated id's stable prefix, a
name, a cell's column, a button's text, else a path from the nearest ancestor with an
identity of its own) that finds it and nothing else. `check_key` tells a key that still
finds its element from one that finds nothing or finds another element (a wrapper that
took the test id, a moved column): the drifts `check-selectors` must name, not crash on;
`confirmed_by_value` checks a read key's candidate against a value the store knows.

A suggestion is only a proposal: `Suggestion.confident` is set when the best clears the
threshold, leads the runner-up by the margin, is visible, has a locator, and beats every
other element of its tag (an input: of its type) on label, name, id and text evidence (a
neighbouring input of the same type, a second button with the same text). Nothing here
changes a map or types anything: wiring it into runs, `check-selectors --suggest`, drift
tickets and a person's approval comes next. `tests/test_repair_drift_corpus.py` holds the
corpus of drifted acme and globex pages it is measured on; `benchmarks/drift_corpus.py`
prints its table and what a capture costs.
"""

from bots._repair._candidates import capture, capture_all, fingerprint_of, suggest
from bots._repair._score import MARGIN, THRESHOLD, WEIGHTS
from bots._repair._verify import SAME, check_key, confirmed_by_value

__all__ = [
    "SAME",
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
