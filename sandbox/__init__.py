"""Simulated client portals that bots are tested and demonstrated against."""

# The planted account name full of markup that every page must show as text.
from sandbox._world import MARKUP_NAME

__all__ = ["MARKUP_NAME"]
