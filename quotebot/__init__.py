"""Quotebot's composition: the `quotebot` command line, logging set-up and the demo.

The only package that may import every other one; `python -m quotebot` is the command.
"""

from typing import TYPE_CHECKING, Any

from quotebot._cli import cli, main

if TYPE_CHECKING:
    from quotebot._logging import configure_logging

__all__ = ["cli", "configure_logging", "main"]


def __getattr__(name: str) -> Any:
    # loguru and the settings are the command's to import when it runs, not `--help`'s.
    if name == "configure_logging":
        from quotebot._logging import configure_logging

        return configure_logging
    raise AttributeError(f"module 'quotebot' has no attribute {name!r}")
