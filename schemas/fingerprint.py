"""What a bot remembers of a portal element, and where it looks for it after the portal changed.

An `ElementFingerprint` is kept each time a selector map key finds its element; when the
key stops matching, the live page's elements are scored against it and the best few become
`Candidate`s, gathered in a `Suggestion` for operations to approve (or not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas._base import Record


class ElementFingerprint(Record):
    """The properties of one element of a portal page that survive most page changes."""

    tag: str = Field(description="lower-case tag name: input, button, td, span ...")
    type: str | None = Field(default=None, description="an input's or a button's type")
    role: str | None = Field(default=None, description="ARIA role, given or implied by the tag")
    name: str | None = Field(default=None, description="accessible name, as a screen reader says")
    label: str | None = Field(
        default=None,
        description="the words that label it: its <label>, a row header, a <dt>",
    )
    id: str | None = None
    field_name: str | None = Field(default=None, description="the `name` attribute")
    test_id: str | None = Field(default=None, description="data-testid (or data-test, data-qa)")
    data: dict[str, str] = Field(
        default_factory=dict, description="the other data-* attributes, without `data-`"
    )
    classes: tuple[str, ...] = ()
    text: str | None = Field(
        default=None, description="its text (a button's value); none for a read key"
    )
    shape: str | None = Field(
        default=None,
        description="the shape of its text: 'A-9' for 'OPP-00005', '9,9.9' for '1,176.00'",
    )
    neighbours: tuple[str, ...] = Field(
        default=(), description="the texts just before and after it on the page"
    )
    header: str | None = Field(default=None, description="for a table cell, its column's header")
    column: int | None = Field(default=None, description="for a table cell, its column (from 1)")
    path: tuple[str, ...] = Field(
        default=(), description="tag names from the document down to it ('#shadow' crossing)"
    )
    form_index: int | None = Field(
        default=None,
        description="its place among the controls of its form (or table, or container), from 1",
    )
    box: tuple[float, float, float, float] | None = Field(
        default=None, description="x, y, width, height in the page, CSS pixels"
    )
    visible: bool = True
    in_shadow: bool = Field(default=False, description="inside a shadow root")


class Candidate(Record):
    """One element of the live page that may be where a drifted key's element went."""

    selector: str | None = Field(
        description="a locator in the map's style that finds exactly this element (None: none "
        "could be built, so it cannot be proposed)"
    )
    frame: str | None = Field(default=None, description="selector of the iframe it is in")
    score: float = Field(ge=0, le=1, description="weighted similarity to the fingerprint")
    matched: dict[str, float] = Field(
        description="each property compared: 1 the same, 0 nothing in common"
    )
    tag: str
    text: str = Field(description="its text or accessible name, shortened, for people")
    visible: bool


class Suggestion(Record):
    """Where a drifted key's element may have gone: the best candidates, best first, and the
    one to propose when the evidence is clear (`confident`), with the reason when it is not."""

    candidates: tuple[Candidate, ...]
    confident: Candidate | None = None
    margin: float = Field(description="best score minus the runner-up's (the best's, if alone)")
    reason: str = Field(description="why the best is, or is not, proposed: for people")


KEY_STATUS = {
    "matches": "finds its element",
    "changed": "finds another element",
    "missing": "finds nothing",
}
"""What a map key's selector finds on the live page, in words (`KeyCheck.status`)."""


class KeyCheck(Record):
    """One key of a selector map checked on the live page against its fingerprint: what
    `check-selectors` reports, one JSON object a key with `--json`."""

    page: str
    key: str
    selector: str
    status: Literal["matches", "changed", "missing"]
    likeness: float | None = Field(
        default=None, description="how alike the element found is to the fingerprint"
    )
    suggestion: Suggestion | None = Field(
        default=None, description="where the element went, for a key that no longer finds it"
    )

    @property
    def status_label(self) -> str:
        return KEY_STATUS[self.status]


TICKET_STATUS = {
    "open": "waiting for a person",
    "approved": "repair approved",
    "dismissed": "dismissed",
}
"""Where a drift ticket stands, in words (`DriftTicket.status`)."""


class DriftTicket(Record):
    """A run or a check stopped because a page no longer matches its map: what operations
    read and approve (the key in words, the evidence, the map patch it proposes)."""

    id: int
    engagement: str
    flavour: str
    key: str = Field(description="page.key or page.rows.cell")
    url: str
    selector: str | None = Field(default=None, description="the map's selector today")
    status: Literal["open", "approved", "dismissed"] = "open"
    opened_at: datetime
    run_id: int | None = None
    check: KeyCheck | None = Field(
        default=None, description="what the selector found and the candidates, scored live"
    )
    screenshot: str | None = Field(
        default=None, description="path of the page's screenshot, the best candidate outlined"
    )
    map_path: str | None = Field(default=None, description="the engagement's selector map file")
    proposed: str | None = Field(default=None, description="the selector the patch proposes")
    patch: str | None = Field(default=None, description="the map patch, as a unified diff")
    map_before: str | None = Field(default=None, description="the map's text the patch is for")
    map_after: str | None = Field(default=None, description="the map's text once patched")
    write: bool = Field(default=False, description="the key types, clicks or submits")
    healed: str | None = Field(
        default=None, description="a confident read candidate used for one run, in words"
    )
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def status_label(self) -> str:
        return TICKET_STATUS[self.status]


class MapVersion(Record):
    """One version of an engagement's selector map, as written by an approval (or the first
    version, as it was before): the history operations can go back in."""

    engagement: str
    number: int
    text: str
    written_by: str
    written_at: datetime
    note: str
    ticket_id: int | None = None
