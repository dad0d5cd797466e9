"""Page objects, one module per portal flavour, built from `selectors/<flavour>.yaml`."""

from __future__ import annotations

import importlib

from bots.portals.base import PortalBot

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
