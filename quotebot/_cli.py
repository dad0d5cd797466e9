"""The `quotebot` command group: settings read once, logging set up once, subcommands loaded
when used."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from loguru import logger

from quotebot._logging import configure_logging
from schemas.errors import first_line
from schemas.settings import Settings

# Imported only when used, so that `quotebot audit` never pays for importing Playwright and
# `--help` stays instant.
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("sandbox.cli", "sandbox_group"),
    "audit": ("quotebot.commands.audit", "audit_command"),
    "run": ("quotebot.commands.run", "run_command"),
    "check-selectors": ("quotebot.commands.run", "check_selectors_command"),
    "users": ("quotebot.commands.users", "users_group"),
    "serve": ("quotebot.commands.web", "serve_command"),
    "report": ("quotebot.commands.web", "report_command"),
    "schedule": ("quotebot.commands.schedule", "schedule_group"),
    "scheduler": ("quotebot.commands.schedule", "scheduler_group"),
    "runs": ("quotebot.commands.runs", "runs_group"),
    "items": ("quotebot.commands.runs", "items_group"),
    "rules": ("quotebot.commands.rules", "rules_group"),
    "demo": ("quotebot.demo", "demo_command"),
    "worker": ("quotebot.commands.worker", "worker_command"),
    "workers": ("quotebot.commands.worker", "workers_command"),
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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Quotebot: quotes and books renewals in client portals, and audits every quote."""
    # The one place settings are read: every command takes them from here (`pass_obj`).
    settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    ctx.obj = settings
    configure_logging(settings, verbose)


def main(argv: list[str] | None = None) -> Any:
    """The command line, where anything unexpected is one line (a traceback with -v only;
    it is in the JSON log either way)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        return cli.main(args=args, prog_name="quotebot")
    except Exception as exc:  # noqa: BLE001 - the one place a command's crash is worded
        if _verbose(args):
            raise
        logger.opt(exception=exc).error("quotebot {} failed", " ".join(args[:2]))
        click.echo(
            f"quotebot: {first_line(exc)} (run it again with -v to see where it failed)",
            err=True,
        )
        sys.exit(1)


def _verbose(args: list[str]) -> bool:
    """Whether -v (or -vv, --verbose) comes before the command's name."""
    for arg in args:
        if not arg.startswith("-"):
            return False
        if arg == "--verbose" or (arg[1:] and set(arg[1:]) == {"v"}):
            return True
    return False
