"""The `quotebot` command line: the one entry point, and the only place logging is configured."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from loguru import logger

# Subcommands live beside the code they drive and are imported only when used, so that
# `quotebot audit` never pays for importing Playwright and `--help` stays instant.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("sandbox.cli", "sandbox_group"),
    "audit": ("audit.cli", "audit_command"),
    "run": ("bots.cli", "run_command"),
    "check-selectors": ("bots.cli", "check_selectors_command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attr = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


def configure_logging(verbose: int) -> None:
    """Send logs to stderr; modules only `logger.bind(...)`, never add sinks."""
    logger.remove()
    level = "DEBUG" if verbose > 1 else "INFO" if verbose == 1 else "WARNING"
    logger.add(
        sys.stderr,
        level=level,
        # Never print variable values in tracebacks: they can hold credentials.
        backtrace=False,
        diagnose=False,
        format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message} "
        "<dim>{extra}</dim>",
    )


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Quotebot: quotes and books renewals in client portals, and audits every quote."""
    configure_logging(verbose)


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="quotebot")


if __name__ == "__main__":
    main()
