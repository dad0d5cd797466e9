"""Playwright bots that read, quote and book renewals in client portals."""

from bots._browser import launch_options

__all__ = ["launch_options"]
