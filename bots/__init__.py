"""Playwright bots that read, quote and book renewals in client portals."""

from bots._browser import launch_options
from bots._errors import BusinessError, PortalError, SelectorDrift
from bots._runner import RunOptions, RunResult, run_engagement
from bots.portals.base import PortalBot

__all__ = [
    "BusinessError",
    "PortalBot",
    "PortalError",
    "RunOptions",
    "RunResult",
    "SelectorDrift",
    "launch_options",
    "run_engagement",
]
