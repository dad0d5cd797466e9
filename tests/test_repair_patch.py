"""The map patch a drift proposes: one key's selector replaced in the map's YAML, the rest
of the file (comments included) as it was; applied, the key finds its element again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from drift_helpers import SELECTORS, corpus_served, load_cases, locate, run_case
from playwright.sync_api import Page

from bots._repair._patch import PatchError, map_diff, patched_map
from bots.portals import load_map

AWKWARD = "a:has-text('Say \"hi\"') >> nth=0"


def _keys(flavour: str) -> list[str]:
    data = yaml.safe_load((SELECTORS / f"{flavour}.yaml").read_text(encoding="utf-8"))
    keys = []
    for page, spec in data["pages"].items():
        keys += [f"{page}.{key}" for key in spec["selectors"]]
        keys += [
            f"{page}.{rows}.{cell}"
            for rows, cells in spec.get("cells", {}).items()
            for cell in cells
        ]
    return keys


@pytest.mark.parametrize("flavour", ["acme", "globex", "tryton"])
def test_every_key_of_every_map_can_be_patched_and_only_it_changes(
    flavour: str, tmp_path: Path
) -> None:
    text = (SELECTORS / f"{flavour}.yaml").read_text(encoding="utf-8")
    for key in _keys(flavour):
        patched = patched_map(text, key, AWKWARD)
        diff = map_diff(text, patched, f"{flavour}.yaml").splitlines()
        assert [line[0] for line in diff[2:] if line[:1] in "+-"] == ["-", "+"], key
        path = tmp_path / f"{flavour}.yaml"
        path.write_text(patched, encoding="utf-8")
        spec = load_map(flavour, path).page(key.split(".")[0])
        parts = key.split(".")
        found = spec.selectors[parts[1]] if len(parts) == 2 else spec.cells[parts[1]][parts[2]]
        assert found == AWKWARD, key


def test_a_comment_on_the_patched_line_is_kept() -> None:
    text = (SELECTORS / "acme.yaml").read_text(encoding="utf-8")
    patched = patched_map(text, "editor.sku_option_of", "[data-qa=sku][data-sku='{sku}']")
    assert "[data-qa=sku][data-sku='{sku}']\"  # {sku}: the SKU chosen\n" in patched


@pytest.mark.parametrize(
    "key", ["editor.no_such_key", "nowhere.title", "quote.lines.nope", "editor"]
)
def test_a_key_the_map_does_not_have_is_refused_by_name(key: str) -> None:
    text = (SELECTORS / "acme.yaml").read_text(encoding="utf-8")
    with pytest.raises(PatchError, match=key):
        patched_map(text, key, "#x")


@pytest.mark.parametrize(
    "case_id", ["acme-wrapper-added", "globex-column-moved", "globex-renamed-id"]
)
def test_the_proposed_patch_finds_the_element_again(
    page: Page, tmp_path: Path, case_id: str
) -> None:
    """The drift's proposal written into the map: the patched map's key, as the page
    objects build it, finds the right element on the changed page."""
    case = next(c for c in load_cases() if c.id == case_id)
    with corpus_served(tmp_path / "served", [case]) as base_url:
        outcome = run_case(page, base_url, case)
        proposal = outcome.suggestion.confident
        assert proposal is not None and proposal.selector and outcome.confident_is_right
        text = (SELECTORS / f"{case.flavour}.yaml").read_text(encoding="utf-8")
        path = tmp_path / f"{case.flavour}.yaml"
        path.write_text(patched_map(text, case.key, proposal.selector), encoding="utf-8")
        spec = load_map(case.flavour, path).page(case.page_name)
        found, row = locate(page, spec, case.key.split(".", 1)[1])
        right = (row or (page.frame_locator(spec.frame) if spec.frame else page)).locator(
            case.right or ""
        )
        assert found.count() == 1
        assert found.evaluate("(a, b) => a === b", right.element_handle())
