"""Selector maps: where each control of a portal page is, as data (selectors/<flavour>.yaml)."""

from __future__ import annotations

import re
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
        return self


class SelectorMap(Record):
    """Every page a bot touches in one portal flavour."""

    flavour: str
    pages: dict[str, PageSelectors]

    def page(self, name: str) -> PageSelectors:
        try:
            return self.pages[name]
        except KeyError:
            raise KeyError(f"the {self.flavour} selector map has no page '{name}'") from None


def load_selector_map(path: Path, *, required: dict[str, set[str]] | None = None) -> SelectorMap:
    """Load and validate a selector map; `required` names the keys a page object needs."""
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
    for page_name, keys in (required or {}).items():
        page = selector_map.pages.get(page_name)
        if page is None:
            raise SelectorMapError(path, f"pages.{page_name}", "page missing")
        missing = sorted(keys - set(page.selectors))
        if missing:
            raise SelectorMapError(
                path, f"pages.{page_name}.selectors", f"missing keys: {', '.join(missing)}"
            )
    return selector_map
