"""Where quotebot's logs go: the one place sinks are added (modules only `logger.bind`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

from schemas.settings import Settings


def configure_logging(settings: Settings, verbose: int) -> None:
    """Logs to stderr for people and, structured (one JSON object a line, with the
    engagement, run and item each record is bound to), to `<home>/logs/quotebot.jsonl`.

    Called again by a command that learns its home from its own options (`demo --home`):
    the file and its folder are made at the first record, so the home the command did not
    use is left untouched."""
    logger.remove()
    logger.add(
        settings.home / "logs" / "quotebot.jsonl",
        delay=True,
        level="DEBUG",
        serialize=True,
        rotation="50 MB",
        retention=10,
        backtrace=False,
        diagnose=False,
    )
    level = "DEBUG" if verbose > 1 else "INFO" if verbose == 1 else "WARNING"
    logger.add(
        sys.stderr,
        level=level,
        # Tracebacks only with -v: without it a person reads one line per problem (the
        # traceback is in the JSON log either way).
        filter=None if verbose else _without_traceback,
        # Never print variable values in tracebacks: they can hold credentials.
        backtrace=False,
        diagnose=False,
        format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}"
        + (" <dim>{extra}</dim>" if verbose else ""),
    )


def _without_traceback(record: Record) -> bool:
    return record["exception"] is None
