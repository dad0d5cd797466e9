"""Selector maps: where each control of a portal page is, as data (selectors/<flavour>.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from schemas._base import Record

_KEY = r"^[a-z][a-z0-9_]*$"


class SelectorMapError(ValueError):
    """Raised when a selector map file is missing, is not YAML, or breaks the schema."""

    def __init__(self, path: Path, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}" if key else f"{path}: {message}")
        self.path = path
        self.key = key


class PageSelectors(Record):
    """One portal page: how to reach it and where its controls are."""

    url: str | None = Field(
        default=None, description="path below the portal URL; {names} filled in"
    )
    frame: str | None = Field(
        default=None, description="selector of the iframe holding the controls"
    )
    anchor: str = Field(description="the key whose element shows that the page is ready")
    selectors: dict[str, str]
    optional: tuple[str, ...] = Field(
        default=(), description="keys present only in some states (errors, confirmations)"
    )
    cells: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="for a key that matches rows, each cell's selector inside one row",
    )

    @model_validator(mode="after")
    def _keys_are_known(self) -> PageSelectors:
        for key in self.selectors:
            if not re.match(_KEY, key):
                raise ValueError(f"selector key '{key}' must be lower_snake_case")
        if self.anchor not in self.selectors:
            raise ValueError(f"anchor '{self.anchor}' is not one of the page's selectors")
        unknown = sorted(set(self.optional) - set(self.selectors))
        if unknown:
            raise ValueError(f"optional keys not among the selectors: {', '.join(unknown)}")
        if self.anchor in self.optional:
            raise ValueError(f"the anchor '{self.anchor}' cannot be optional")
        for rows, cells in self.cells.items():
            if rows not in self.selectors:
                raise ValueError(f"cells of '{rows}', which is not one of the page's selectors")
            for cell in cells:
                if not re.match(_KEY, cell):
                    raise ValueError(f"cell key '{rows}.{cell}' must be lower_snake_case")
        return self

    def keys(self) -> set[str]:
        """Every key of the page: its selectors, and each row cell as `rows.cell`."""
        return set(self.selectors) | {
            f"{rows}.{cell}" for rows, cells in self.cells.items() for cell in cells
        }


class SelectorMap(Record):
    """Every page a bot touches in one portal flavour."""

    flavour: str
    date_format: str = Field(
        default="%Y-%m-%d", description="how the portal shows dates (strptime), per client"
    )
    currencies: dict[str, str] = Field(
        default_factory=dict,
        description="the portal's currency names -> ISO codes, where it shows names",
    )
    pages: dict[str, PageSelectors]

    def page(self, name: str) -> PageSelectors:
        try:
            return self.pages[name]
        except KeyError:
            raise KeyError(f"the {self.flavour} selector map has no page '{name}'") from None


def load_selector_map(
    path: Path, *, required: Mapping[str, AbstractSet[str]] | None = None
) -> SelectorMap:
    """Load and validate a selector map; `required` names the keys a page object needs
    (page -> keys, a row cell written `rows.cell`), and a map that lacks one is refused."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SelectorMapError(path, "", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SelectorMapError(path, "", f"not valid YAML: {exc}") from None
    try:
        selector_map = SelectorMap.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise SelectorMapError(path, key, first["msg"]) from None
    require_keys(path, selector_map, required or {})
    return selector_map


def require_keys(
    path: Path, selector_map: SelectorMap, required: Mapping[str, AbstractSet[str]]
) -> None:
    """`SelectorMapError` naming the file, the page and the keys a page object needs that
    the map lacks (page -> keys, a row cell written `rows.cell`)."""
    for page_name, keys in required.items():
        page = selector_map.pages.get(page_name)
        if page is None:
            raise SelectorMapError(path, f"pages.{page_name}", "page missing")
        missing = sorted(set(keys) - page.keys())
        if missing:
            raise SelectorMapError(
                path, f"pages.{page_name}", f"missing keys: {', '.join(missing)}"
            )
