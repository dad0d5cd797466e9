"""Quotebot's composition: the `quotebot` command line, logging set-up and the demo.

The only package that may import every other one; `python -m quotebot` is the command.
"""

from quotebot._cli import cli, main
from quotebot._logging import configure_logging

__all__ = ["cli", "configure_logging", "main"]
