"""Page objects, one module per portal flavour, built from `selectors/<flavour>.yaml`."""

from __future__ import annotations

import importlib
from pathlib import Path

from bots.portals.base import PortalBot
from schemas.selector_map import SelectorMap, SelectorMapError, load_selector_map, require_keys

FLAVOURS = {
    "acme": "bots.portals.acme:AcmeBot",
    "globex": "bots.portals.globex:GlobexBot",
    "tryton": "bots.portals.tryton:TrytonBot",
}


def bot_class(flavour: str) -> type[PortalBot]:
    """The page-object class of a portal flavour."""
    try:
        module_name, cls_name = FLAVOURS[flavour].split(":")
    except KeyError:
        known = ", ".join(sorted(FLAVOURS))
        raise ValueError(f"unknown portal flavour '{flavour}' (known: {known})") from None
    cls = getattr(importlib.import_module(module_name), cls_name)
    assert issubclass(cls, PortalBot)
    return cls


def load_map(flavour: str, path: Path) -> SelectorMap:
    """A flavour's selector map, refused (`SelectorMapError`, naming the file and the key)
    when it is for another flavour or lacks a key the flavour's page objects use."""
    selector_map = load_selector_map(path)
    if selector_map.flavour != flavour:
        raise SelectorMapError(path, "flavour", f"'{selector_map.flavour}', not '{flavour}'")
    require_keys(path, selector_map, bot_class(flavour).required)
    return selector_map
