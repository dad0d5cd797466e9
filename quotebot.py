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
    "users": ("web.cli", "users_group"),
    "serve": ("web.cli", "serve_command"),
    "report": ("web.cli", "report_command"),
    "schedule": ("scheduler_cli", "schedule_group"),
    "scheduler": ("scheduler_cli", "scheduler_group"),
    "runs": ("store.cli", "runs_group"),
    "items": ("store.cli", "items_group"),
    "demo": ("demo", "demo_command"),
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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            try:
                command = self.get_command(ctx, name)
            except ImportError as exc:  # a broken install must not hide every other command
                rows.append((name, f"(unavailable: {exc})"))
                continue
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def configure_logging(verbose: int) -> None:
    """Logs to stderr for people and, structured (one JSON object a line, with the
    engagement, run and item each record is bound to), to `<home>/logs/quotebot.jsonl`.
    Modules only `logger.bind(...)`; this is the one place sinks are added."""
    from schemas.settings import Settings

    logger.remove()
    logs = Settings().home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    logger.add(
        logs / "quotebot.jsonl",
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
