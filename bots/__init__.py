"""Playwright bots that read, quote and book renewals in client portals."""

from bots._browser import launch_options
from bots._check import SelectorReport, check_selectors
from bots._errors import BusinessError, PortalError, SelectorDrift
from bots._runner import RunOptions, RunResult, run_engagement
from bots._session import Credentials, login
from bots.portals.base import PortalBot

__all__ = [
    "BusinessError",
    "Credentials",
    "PortalBot",
    "PortalError",
    "RunOptions",
    "RunResult",
    "SelectorDrift",
    "SelectorReport",
    "check_selectors",
    "launch_options",
    "login",
    "run_engagement",
]
