"""How alike a live page's element is to a key's fingerprint, and when the best is proposed.

The score is a weighted mean of one similarity per property (1 the same, 0 nothing in
common), over the properties the fingerprint has: a property the old element lacked is no
evidence either way. How the weights were chosen, from what the field learnt:

- Similo (Nass et al., TOSEM 2023) weighs tag, name, id, visible text and neighbour texts
  1.5 and the rest (classes, XPath, location, size) 0.5, and located about 88 % of 598
  elements. We keep its shape: what people read (the label, the accessible name, the text,
  the neighbouring texts) and the field's `name` weigh most, 1.5; a table cell's column
  header too, since a moved column takes its header along (globex's drifted quantity).
- Healenium weighs tag and DOM path 100, id 50, classes 40, text and attributes 30. Its
  path weight is why a wrapper or a move to another container loses its heals, so the path
  weighs 0.5 here, as position and place in the form do: evidence, never the decider.
- Ids and test ids weigh 1.0, not Similo's 1.5: renaming them is the commonest change the
  issue lists, and generated ids change on every load (their generated tail is ignored).
- Healenium's users saw heals onto the neighbouring input of the same type (#76, #40) and
  onto invisible elements (#88); Similo's later variants found more but proposed more wrong
  ones. Hence `decide`: a proposal needs a score over `THRESHOLD` **and** `MARGIN` ahead of
  the runner-up, a visible element, a locator that finds it alone, and, when the page has
  other elements of its tag (an input: of its type), label, name, id or text evidence of
  its own (`IDENTITY_FLOOR`) that beats theirs clearly (`IDENTITY_WIN`): a place and a
  shape alone are what the neighbour that moved into a removed element's place has too.
- Texts are compared by letters and by words: "Account" is 0.82 alike "Account ID" by
  letters alone, enough to take one for the other.

On the drift corpus (tests/drift_corpus/) these rules find the right element first in 23
of 24 changes and propose 19 of them, and no wrong one, traps included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

from schemas.fingerprint import Candidate, ElementFingerprint

WEIGHTS: dict[str, float] = {
    "tag": 1.0,
    "type": 0.5,
    "role": 1.0,
    "name": 1.5,
    "label": 1.5,
    "field_name": 1.5,
    "text": 1.5,
    "neighbours": 1.5,
    "header": 1.5,
    "id": 1.0,
    "test_id": 1.0,
    "shape": 0.75,
    "data": 0.5,
    "classes": 0.5,
    "path": 0.5,
    "form_index": 0.5,
    "box": 0.5,
    "column": 0.25,
}

THRESHOLD = 0.6
"""The lowest score proposed: Healenium's 0.6 of the maximum."""
MARGIN = 0.08
"""How far ahead of the runner-up the best must be to be proposed."""
IDENTITY_FLOOR = 0.5
"""The least label/name evidence a proposal needs: a likeness of place and shape alone (the
element removed, its neighbour in its place) is never enough."""
IDENTITY_WIN = 0.25
"""How far the best's label/name evidence must beat any other element of its tag and type
(the neighbouring input of the same type; the second button with the same text)."""

_IDENTITY = ("label", "name", "field_name", "id", "test_id", "text", "header")
_GENERATED = re.compile(r"[-_:]?([0-9a-f]{6,}|\d{3,})$", re.I)
_FAMILIES = (
    {"input", "select", "textarea"},
    {"button", "a"},
    {"td", "th", "dd", "span", "div", "b", "strong", "p", "output", "label"},
)


_TEXT_HOLDERS = frozenset({"cell", "definition", "generic", "status", "paragraph"})


def shape(text: str | None) -> str | None:
    """A value's shape, the same from record to record: '1,176.00' -> '9,9.9'."""
    if not text:
        return None
    out = re.sub(r"\d+", "9", text)
    out = re.sub(r"[A-Z][a-z]+", "Aa", out)  # a capitalised word
    out = re.sub(r"[a-z]+", "a", out)
    return re.sub(r"[A-Z]+", "A", out)


def _norm(value: str) -> str:
    return " ".join(value.lower().replace("_", " ").replace("-", " ").split())


@lru_cache(maxsize=8192)  # a page's survey compares the same few texts over and over
def similar(a: str | None, b: str | None) -> float:
    """Two texts' likeness: 1 equal (case and separators aside), down to 0."""
    if not a or not b:
        return 0.0
    a, b = _norm(a), _norm(b)
    if a == b:
        return 1.0
    # letters alike, and words alike: "Account" is not "Account ID", though 0.82 alike
    words_a, words_b = set(a.split()), set(b.split())
    words = len(words_a & words_b) / len(words_a | words_b)
    return (SequenceMatcher(None, a, b).ratio() + words) / 2


def _id(a: str | None, b: str | None) -> float:
    """Ids, names and test ids share long prefixes (`ctl00_main_txt`): the mean of the whole
    words' likeness and of the parts that differ, a generated tail left out."""
    a, b = _norm(_GENERATED.sub("", a or "")), _norm(_GENERATED.sub("", b or ""))
    if not a or not b:
        return 0.0
    start = len(os.path.commonprefix([a, b]))
    end = len(os.path.commonprefix([a[start:][::-1], b[start:][::-1]]))
    rest_a, rest_b = a[start : len(a) - end], b[start : len(b) - end]
    differing = 1.0 if rest_a == rest_b else similar(rest_a, rest_b)
    return (similar(a, b) + differing) / 2


def _tag(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return 0.6 if any(a in family and b in family for family in _FAMILIES) else 0.0


def _role(a: str, b: str) -> float:
    """Roles alike: the same, or two kinds of text holder (a cell, a <dd>, a <span>)."""
    if a == b:
        return 1.0
    return 0.5 if a in _TEXT_HOLDERS and b in _TEXT_HOLDERS else 0.0


def same_kind(old: ElementFingerprint, new: ElementFingerprint) -> bool:
    """Both are of one kind: a field, a button, a text; not a <span> wrapped round a button."""
    return _tag(old.tag, new.tag) > 0 and _role(old.role or "", new.role or "") > 0


def _classes(a: Sequence[str], b: Sequence[str]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b)) if a and b else 0.0


def _data(a: dict[str, str], b: dict[str, str]) -> float:
    return sum(1.0 if b.get(k) == v else 0.5 if k in b else 0.0 for k, v in a.items()) / len(a)


@lru_cache(maxsize=8192)
def _texts(a: Sequence[str], b: Sequence[str]) -> float:
    return sum(max((similar(x, y) for y in b), default=0.0) for x in a) / len(a)


@lru_cache(maxsize=8192)  # a grid's cells share one path
def _path(a: Sequence[str], b: Sequence[str]) -> float:
    """Longest common subsequence of the tag paths, over the longer (Healenium's measure)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(previous[j] + 1 if x == y else max(previous[j + 1], row[j]))
        previous = row
    return previous[-1] / max(len(a), len(b))


def _place(a: int, b: int) -> float:
    return {0: 1.0, 1: 0.5}.get(abs(a - b), 0.0)


def _box(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """1 at the same place, 0 from 400 px apart (centres)."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return max(0.0, 1.0 - (dx * dx + dy * dy) ** 0.5 / 400)


_SIMILARITY: dict[str, Callable[..., float]] = {
    "tag": _tag,
    "role": _role,
    "id": _id,
    "field_name": _id,
    "test_id": _id,
    "classes": _classes,
    "data": _data,
    "neighbours": _texts,
    "path": _path,
    "form_index": _place,
    "column": _place,
    "box": _box,
}


def compare(old: ElementFingerprint, new: ElementFingerprint) -> tuple[float, dict[str, float]]:
    """The weighted score of `new` against `old`, and each property's similarity."""
    matched: dict[str, float] = {}
    for prop in WEIGHTS:
        was = getattr(old, prop)
        if was is None or was == () or was == {}:
            continue
        now = getattr(new, prop) if prop != "shape" else shape(new.text)
        if now is None or now == () or now == {}:
            matched[prop] = 0.0
            continue
        measure = _SIMILARITY.get(prop, similar)
        matched[prop] = round(measure(was, now), 3)
    total = sum(WEIGHTS[p] for p in matched)
    score = sum(WEIGHTS[p] * s for p, s in matched.items()) / total if total else 0.0
    return round(score, 3), matched


def identity(candidate: Candidate) -> float:
    """The label, name, id and text evidence alone: what tells an element from its
    neighbour of the same kind (a place or a shape does not)."""
    return max((candidate.matched.get(p, 0.0) for p in _IDENTITY), default=0.0)


def decide(
    old: ElementFingerprint, ranked: Sequence[Candidate], rivals: Sequence[Candidate]
) -> tuple[Candidate | None, float, str]:
    """The candidate to propose (or None), the margin, and why, in words for operations.
    `ranked`: the best candidates, best first; `rivals`: every element of the page of the
    best's tag and type but the best (the neighbours it could be mistaken for)."""
    if not ranked:
        return None, 0.0, "nothing on the page resembles the element"
    best = ranked[0]
    margin = round(best.score - (ranked[1].score if len(ranked) > 1 else 0.0), 3)
    if best.score < THRESHOLD:
        return None, margin, f"the best scores {best.score:.2f}, under {THRESHOLD:.2f}"
    if margin < MARGIN:
        return None, margin, f"the runner-up is within {margin:.2f} of the best"
    if not best.visible:
        return None, margin, "the best is hidden on the page"
    if best.selector is None:
        return None, margin, "no locator finds the best alone"
    if not rivals:  # nothing else of its kind on the page to mistake it for
        return best, margin, f"scores {best.score:.2f}, {margin:.2f} ahead, alone of its kind"
    evidence = identity(best)
    if evidence < IDENTITY_FLOOR:
        return (
            None,
            margin,
            (
                f"only its place and shape match: its label, name, id and text ({evidence:.2f}) "
                "are not the element's"
            ),
        )
    rival = max(identity(r) for r in rivals)
    if evidence - rival < IDENTITY_WIN:
        return (
            None,
            margin,
            (
                f"another <{best.tag}> of the same type is as likely: the label, name, id and "
                f"text evidence ({evidence:.2f} against {rival:.2f}) does not win clearly"
            ),
        )
    return best, margin, f"scores {best.score:.2f}, {margin:.2f} ahead of the runner-up"
